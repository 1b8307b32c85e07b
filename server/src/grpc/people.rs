//! `switchboard.v1.People` over tonic: profiles and the directory (the `user.profile.*`
//! scopes), contacts and blocks (`user.contacts.manage`); shares the Chat service's
//! authentication, admission limit and write rate.

use switchboard_proto::v1::{self as pb, people_server::People};
use tonic::Request;

use super::api::{ChatApi, Reply, reply};
use crate::auth::{Caller, Scope};
use crate::convert;
use crate::model::{ProfileView, Relation};

/// The People service as served over gRPC.
#[derive(Clone)]
pub struct PeopleApi {
    api: ChatApi,
}

impl PeopleApi {
    pub fn new(api: ChatApi) -> Self {
        PeopleApi { api }
    }
}

#[tonic::async_trait]
impl People for PeopleApi {
    async fn get_profile(&self, request: Request<pb::GetProfileRequest>) -> Reply<pb::Profile> {
        let (caller, _admitted) = self.api.caller(&request, Scope::ProfileView).await?;
        let user = request.into_inner().user_id;
        reply(convert::profile(self.api.chat.profiles.get(&caller, &user).await?))
    }

    async fn get_profiles(
        &self,
        request: Request<pb::GetProfilesRequest>,
    ) -> Reply<pb::GetProfilesResponse> {
        let (caller, _admitted) = self.api.caller(&request, Scope::ProfileView).await?;
        let users = request.into_inner().user_ids;
        let views = self.api.chat.profiles.get_many(&caller, &users).await?;
        reply(pb::GetProfilesResponse {
            profiles: views.into_iter().map(convert::profile).collect(),
        })
    }

    async fn export_my_data(&self, request: Request<pb::ExportMyDataRequest>) -> Reply<pb::Job> {
        let (caller, _admitted) = self.api.writer(&request, Scope::Read).await?;
        reply(convert::job(self.api.chat.export_user(&caller, &caller.user).await?, None))
    }

    async fn get_my_export(&self, request: Request<pb::GetMyExportRequest>) -> Reply<pb::Job> {
        let (caller, _admitted) = self.api.caller(&request, Scope::Read).await?;
        let job = self.api.chat.my_export(&caller, request.into_inner().job_id).await?;
        let url = self.api.chat.download_url(&job).await?;
        reply(convert::job(job, url))
    }

    /// Someone else's profile needs `chat.admin` as well (checked where it is changed).
    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Reply<pb::Profile> {
        let (caller, _admitted) = self.api.writer(&request, Scope::ProfileEdit).await?;
        let r = request.into_inner();
        let changes = convert::profile_changes(r.profile.unwrap_or_default());
        let view = self.api.chat.profiles.update(&caller, &r.user_id, &changes, &r.fields).await?;
        reply(convert::profile(view))
    }

    async fn search_users(
        &self,
        request: Request<pb::SearchUsersRequest>,
    ) -> Reply<pb::SearchUsersResponse> {
        let (caller, _admitted) = self.api.caller(&request, Scope::SearchUsers).await?;
        let r = request.into_inner();
        let page =
            self.api.chat.directory.search(&caller, &r.query, r.limit, &r.page_token).await?;
        reply(pb::SearchUsersResponse {
            users: page.users.into_iter().map(convert::profile).collect(),
            next_page_token: page.next_page_token,
        })
    }

    async fn add_contact(&self, request: Request<pb::AddContactRequest>) -> Reply<pb::Person> {
        let (caller, _admitted) = self.api.writer(&request, Scope::ContactsManage).await?;
        let other = request.into_inner().user_id;
        let listed = self.api.chat.relations.add(&caller, Relation::Contact, &other).await?;
        reply(person(listed))
    }

    async fn remove_contact(
        &self,
        request: Request<pb::RemoveContactRequest>,
    ) -> Reply<pb::RemoveContactResponse> {
        let (caller, _admitted) = self.api.writer(&request, Scope::ContactsManage).await?;
        let other = request.into_inner().user_id;
        let removed = self.api.chat.relations.remove(&caller, Relation::Contact, &other).await?;
        reply(pb::RemoveContactResponse { removed })
    }

    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Reply<pb::ListPeopleResponse> {
        let (caller, _admitted) = self.api.caller(&request, Scope::ContactsManage).await?;
        let r = request.into_inner();
        self.list(&caller, Relation::Contact, &r.after, r.limit).await
    }

    async fn block(&self, request: Request<pb::BlockRequest>) -> Reply<pb::Person> {
        let (caller, _admitted) = self.api.writer(&request, Scope::ContactsManage).await?;
        let other = request.into_inner().user_id;
        let listed = self.api.chat.relations.add(&caller, Relation::Block, &other).await?;
        reply(person(listed))
    }

    async fn unblock(&self, request: Request<pb::UnblockRequest>) -> Reply<pb::UnblockResponse> {
        let (caller, _admitted) = self.api.writer(&request, Scope::ContactsManage).await?;
        let other = request.into_inner().user_id;
        let unblocked = self.api.chat.relations.remove(&caller, Relation::Block, &other).await?;
        reply(pb::UnblockResponse { unblocked })
    }

    async fn list_blocked(
        &self,
        request: Request<pb::ListBlockedRequest>,
    ) -> Reply<pb::ListPeopleResponse> {
        let (caller, _admitted) = self.api.caller(&request, Scope::ContactsManage).await?;
        let r = request.into_inner();
        self.list(&caller, Relation::Block, &r.after, r.limit).await
    }
}

impl PeopleApi {
    /// A page of one of the caller's lists.
    async fn list(
        &self,
        caller: &Caller,
        kind: Relation,
        after: &str,
        limit: u32,
    ) -> Reply<pb::ListPeopleResponse> {
        let (listed, next_after) = self.api.chat.relations.list(caller, kind, after, limit).await?;
        reply(pb::ListPeopleResponse {
            people: listed.into_iter().map(person).collect(),
            next_after,
        })
    }
}

/// Someone on a list, with their profile as the caller sees it.
fn person((view, added_at_ms): (ProfileView, i64)) -> pb::Person {
    pb::Person { profile: Some(convert::profile(view)), added_at_ms }
}
