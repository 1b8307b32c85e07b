//! `switchboard.v1.People` over tonic: profiles and the directory, with the `user.profile.*` scopes; shares
//! the Chat service's authentication, admission limit and write rate.

use switchboard_proto::v1::{self as pb, people_server::People};
use tonic::Request;

use super::api::{ChatApi, Reply, reply};
use crate::auth::Scope;
use crate::convert;

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
        let (caller, _admitted) = self.api.caller(&request, Scope::ProfileView)?;
        let user = request.into_inner().user_id;
        reply(convert::profile(self.api.chat.profiles.get(&caller, &user).await?))
    }

    async fn get_profiles(
        &self,
        request: Request<pb::GetProfilesRequest>,
    ) -> Reply<pb::GetProfilesResponse> {
        let (caller, _admitted) = self.api.caller(&request, Scope::ProfileView)?;
        let users = request.into_inner().user_ids;
        let views = self.api.chat.profiles.get_many(&caller, &users).await?;
        reply(pb::GetProfilesResponse {
            profiles: views.into_iter().map(convert::profile).collect(),
        })
    }

    /// Someone else's profile needs `chat.admin` as well (checked where it is changed).
    async fn update_profile(
        &self,
        request: Request<pb::UpdateProfileRequest>,
    ) -> Reply<pb::Profile> {
        let (caller, _admitted) = self.api.writer(&request, Scope::ProfileEdit)?;
        let r = request.into_inner();
        let changes = convert::profile_changes(r.profile.unwrap_or_default());
        let view = self.api.chat.profiles.update(&caller, &r.user_id, &changes, &r.fields).await?;
        reply(convert::profile(view))
    }

    async fn search_users(
        &self,
        request: Request<pb::SearchUsersRequest>,
    ) -> Reply<pb::SearchUsersResponse> {
        let (caller, _admitted) = self.api.caller(&request, Scope::SearchUsers)?;
        let r = request.into_inner();
        let page =
            self.api.chat.directory.search(&caller, &r.query, r.limit, &r.page_token).await?;
        reply(pb::SearchUsersResponse {
            users: page.users.into_iter().map(convert::profile).collect(),
            next_page_token: page.next_page_token,
        })
    }
}
