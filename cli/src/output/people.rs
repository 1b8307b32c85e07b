//! Profiles, as sbctl shows them.

use comfy_table::Table;
use serde_json::{Value, json};
use switchboard_sdk::proto as pb;

use super::{format_ms, table};

pub(crate) fn profile_json(p: &pb::Profile) -> Value {
    json!({
        "user_id": p.user_id,
        "exists": p.exists,
        "display_name": p.display_name,
        "title": p.title,
        "bio": p.bio,
        "time_zone": p.time_zone,
        "email": p.email,
        "phone": p.phone,
        "custom_fields": p.custom_fields,
        "updated_at_ms": p.updated_at_ms,
        "avatar_id": p.avatar_id,
    })
}

pub(crate) fn profiles_table(profiles: &[pb::Profile]) -> Table {
    let columns = ["USER", "NAME", "TITLE", "TIME ZONE", "CONTACT", "FIELDS", "AVATAR", "UPDATED"];
    let mut t = table(&columns);
    for p in profiles {
        let contact = [p.email.as_str(), p.phone.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let fields: Vec<String> = p.custom_fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let name = if p.exists { p.display_name.clone() } else { "(no profile)".into() };
        let updated = if p.updated_at_ms > 0 { format_ms(p.updated_at_ms) } else { String::new() };
        t.add_row(vec![
            p.user_id.clone(),
            name,
            p.title.clone(),
            p.time_zone.clone(),
            contact,
            fields.join(" "),
            if p.avatar_id == 0 { String::new() } else { p.avatar_id.to_string() },
            updated,
        ]);
    }
    t
}
