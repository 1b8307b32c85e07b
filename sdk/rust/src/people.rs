//! People: users' profiles (who someone is, by the name they chose) and the directory.

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
}
