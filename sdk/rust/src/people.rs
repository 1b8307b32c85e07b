//! People: users' profiles (who someone is, by the name they chose), the directory, and
//! the caller's contacts and blocks.

use switchboard_proto::v1 as pb;

use crate::client::{Client, Result};

impl Client {
    /// `user`'s profile as this caller may see it; `""` for the caller's own.
    pub async fn get_profile(&self, user: &str) -> Result<pb::Profile> {
        let request = pb::GetProfileRequest { user_id: user.into() };
        Ok(self.people.clone().get_profile(request).await?.into_inner())
    }

    /// Up to 500 users' profiles at once, in the order asked.
    pub async fn get_profiles(&self, users: &[String]) -> Result<Vec<pb::Profile>> {
        let request = pb::GetProfilesRequest { user_ids: users.to_vec() };
        Ok(self.people.clone().get_profiles(request).await?.into_inner().profiles)
    }

    /// Sets the named `fields` of `user`'s profile (`""`: the caller's) to their values in
    /// `profile`.
    pub async fn update_profile(
        &self,
        user: &str,
        profile: pb::Profile,
        fields: &[&str],
    ) -> Result<pb::Profile> {
        let request = pb::UpdateProfileRequest {
            user_id: user.into(),
            profile: Some(profile),
            fields: fields.iter().map(|field| field.to_string()).collect(),
        };
        Ok(self.people.clone().update_profile(request).await?.into_inner())
    }

    /// A page of the org's users whose names, titles or ids have words starting with each
    /// word of `query`; `page_token` is the previous page's `next_page_token` ("" first).
    pub async fn search_users(
        &self,
        query: &str,
        limit: u32,
        page_token: &str,
    ) -> Result<pb::SearchUsersResponse> {
        let request =
            pb::SearchUsersRequest { query: query.into(), limit, page_token: page_token.into() };
        Ok(self.people.clone().search_users(request).await?.into_inner())
    }

    /// Adds `user` to your contacts (answers with when they were first added).
    pub async fn add_contact(&self, user: &str) -> Result<pb::Person> {
        let request = pb::AddContactRequest { user_id: user.into() };
        Ok(self.people.clone().add_contact(request).await?.into_inner())
    }

    /// Takes `user` off your contacts; false if they were not one.
    pub async fn remove_contact(&self, user: &str) -> Result<bool> {
        let request = pb::RemoveContactRequest { user_id: user.into() };
        Ok(self.people.clone().remove_contact(request).await?.into_inner().removed)
    }

    /// A page of your contacts after the user id `after` ("" first), by user id.
    pub async fn list_contacts(&self, after: &str, limit: u32) -> Result<pb::ListPeopleResponse> {
        let request = pb::ListContactsRequest { after: after.into(), limit };
        Ok(self.people.clone().list_contacts(request).await?.into_inner())
    }

    /// Blocks `user`: no direct messages between you, and their DM leaves your listing.
    pub async fn block(&self, user: &str) -> Result<pb::Person> {
        let request = pb::BlockRequest { user_id: user.into() };
        Ok(self.people.clone().block(request).await?.into_inner())
    }

    /// Lifts a block; false if `user` was not blocked.
    pub async fn unblock(&self, user: &str) -> Result<bool> {
        let request = pb::UnblockRequest { user_id: user.into() };
        Ok(self.people.clone().unblock(request).await?.into_inner().unblocked)
    }

    /// A page of the users you block after `after` ("" first), by user id: what a client
    /// hides messages of.
    pub async fn list_blocked(&self, after: &str, limit: u32) -> Result<pb::ListPeopleResponse> {
        let request = pb::ListBlockedRequest { after: after.into(), limit };
        Ok(self.people.clone().list_blocked(request).await?.into_inner())
    }

    /// Starts exporting your own data: the background job, to follow with
    /// [`Self::get_my_export`].
    pub async fn export_my_data(&self) -> Result<pb::Job> {
        let request = pb::ExportMyDataRequest {};
        Ok(self.people.clone().export_my_data(request).await?.into_inner())
    }

    /// One of your own exports, with its `download_url` once it is done (until
    /// `archive_expires_at_ms`, a week later).
    pub async fn get_my_export(&self, job_id: u64) -> Result<pb::Job> {
        let request = pb::GetMyExportRequest { job_id };
        Ok(self.people.clone().get_my_export(request).await?.into_inner())
    }
}
