//! `sbctl profile` (showing and changing profiles) and `sbctl users` (the directory).

use serde_json::Value;
use switchboard_sdk::{Client, SdkError, proto as pb};

use crate::args::ProfileCommand;
use crate::chat::Shown;
use crate::output;

pub(crate) async fn profile(client: &Client, command: ProfileCommand) -> Result<Shown, SdkError> {
    let profiles = match command {
        ProfileCommand::Show { users } if users.is_empty() => vec![client.get_profile("").await?],
        ProfileCommand::Show { users } => client.get_profiles(&users).await?,
        ProfileCommand::Set { user, name, title, bio, time_zone, email, phone, fields } => {
            let mut changes = pb::Profile::default();
            let mut named = Vec::new();
            let mut set = |field: &'static str, value: Option<String>, to: &mut String| {
                if let Some(value) = value {
                    *to = value;
                    named.push(field);
                }
            };
            set("display_name", name, &mut changes.display_name);
            set("title", title, &mut changes.title);
            set("bio", bio, &mut changes.bio);
            set("time_zone", time_zone, &mut changes.time_zone);
            set("email", email, &mut changes.email);
            set("phone", phone, &mut changes.phone);
            if let Some(fields) = fields {
                changes.custom_fields = fields.into_iter().collect();
                named.push("custom_fields");
            }
            let user = user.unwrap_or_default();
            vec![client.update_profile(&user, changes, &named).await?]
        }
    };
    Ok(Shown {
        json: match profiles.as_slice() {
            [one] => output::profile_json(one),
            all => Value::Array(all.iter().map(output::profile_json).collect()),
        },
        human: output::profiles_table(&profiles).to_string(),
    })
}

pub(crate) async fn users(
    client: &Client,
    query: &str,
    limit: u32,
    page: &str,
) -> Result<Shown, SdkError> {
    let found = client.search_users(query, limit, page).await?;
    let mut human = output::profiles_table(&found.users).to_string();
    if !found.next_page_token.is_empty() {
        human.push_str(&format!("\nmore: --page {}", found.next_page_token));
    }
    Ok(Shown {
        json: serde_json::json!({
            "users": found.users.iter().map(output::profile_json).collect::<Vec<_>>(),
            "next_page_token": found.next_page_token,
        }),
        human,
    })
}
