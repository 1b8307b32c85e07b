//! `sbctl profile` (showing and changing profiles), `sbctl users` (the directory),
//! `sbctl contacts` and `sbctl block`.

use serde_json::Value;
use switchboard_sdk::{Client, SdkError, proto as pb};

use crate::args::{PeopleListCommand, ProfileCommand};
use crate::chat::Shown;
use crate::output;

pub(crate) async fn profile(client: &Client, command: ProfileCommand) -> Result<Shown, SdkError> {
    let profiles = match command {
        ProfileCommand::Show { users } if users.is_empty() => vec![client.get_profile("").await?],
        ProfileCommand::Show { users } => client.get_profiles(&users).await?,
        ProfileCommand::Set {
            user,
            name,
            title,
            bio,
            time_zone,
            email,
            phone,
            fields,
            avatar,
            clear_avatar,
        } => {
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
            if clear_avatar {
                named.push("avatar");
            }
            let mut now = match avatar {
                Some(path) => Some(set_avatar(client, &path).await?),
                None => None,
            };
            if !named.is_empty() || now.is_none() {
                let user = user.unwrap_or_default();
                now = Some(client.update_profile(&user, changes, &named).await?);
            }
            now.into_iter().collect()
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

/// Uploads the picture at `path` and makes it the caller's avatar.
async fn set_avatar(client: &Client, path: &std::path::Path) -> Result<pb::Profile, SdkError> {
    let data = tokio::fs::read(path)
        .await
        .map_err(|error| SdkError::Io(format!("{}: {error}", path.display())))?;
    let content_type = mime_guess::from_path(path).first_or_octet_stream().to_string();
    let filename = path.file_name().map_or("avatar".into(), |n| n.to_string_lossy().into_owned());
    client.set_avatar(&filename, &content_type, &data).await
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

/// Which of the caller's lists a command changes.
#[derive(Clone, Copy)]
pub(crate) enum List {
    Contacts,
    Blocked,
}

pub(crate) async fn list(
    client: &Client,
    which: List,
    command: PeopleListCommand,
) -> Result<Shown, SdkError> {
    match command {
        PeopleListCommand::List => {
            let mut people = Vec::new();
            let mut after = String::new();
            loop {
                let page = match which {
                    List::Contacts => client.list_contacts(&after, 200).await?,
                    List::Blocked => client.list_blocked(&after, 200).await?,
                };
                people.extend(page.people);
                if page.next_after.is_empty() {
                    break;
                }
                after = page.next_after;
            }
            Ok(people_shown(&people))
        }
        PeopleListCommand::Add { users } => {
            let mut people = Vec::new();
            for user in &users {
                people.push(match which {
                    List::Contacts => client.add_contact(user).await?,
                    List::Blocked => client.block(user).await?,
                });
            }
            Ok(people_shown(&people))
        }
        PeopleListCommand::Remove { users } => {
            let (mut json, mut lines) = (Vec::new(), Vec::new());
            for user in &users {
                let removed = match which {
                    List::Contacts => client.remove_contact(user).await?,
                    List::Blocked => client.unblock(user).await?,
                };
                json.push(serde_json::json!({ "user_id": user, "removed": removed }));
                lines
                    .push(format!("{user}: {}", if removed { "removed" } else { "was not there" }));
            }
            Ok(Shown { json: Value::Array(json), human: lines.join("\n") })
        }
    }
}

fn people_shown(people: &[pb::Person]) -> Shown {
    let profiles: Vec<pb::Profile> = people.iter().filter_map(|p| p.profile.clone()).collect();
    let json = people
        .iter()
        .map(|p| {
            let mut value = p.profile.as_ref().map(output::profile_json).unwrap_or_default();
            value["added_at_ms"] = p.added_at_ms.into();
            value
        })
        .collect();
    Shown { json: Value::Array(json), human: output::profiles_table(&profiles).to_string() }
}
