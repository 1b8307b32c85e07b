//! The controller's layers, as docs/architecture.md draws them ("Where things live in the
//! controller"), are the code's: no module of `server/src` imports from a layer above its
//! own, and every module is in the table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Module → layer (0 at the bottom), from the table's second column: the first backquoted
/// word of each name (`store` of "`store` (`embedded`, …)").
fn layers_in_the_docs() -> BTreeMap<String, usize> {
    let docs = std::fs::read_to_string(repository().join("docs/architecture.md")).unwrap();
    let table = docs
        .split("## Where things live in the controller")
        .nth(1)
        .expect("the section")
        .split("\n## ")
        .next()
        .unwrap();
    let rows = table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| layer"));
    let mut layers = BTreeMap::new();
    for (layer, row) in rows.enumerate() {
        let modules = row.split('|').nth(2).expect("a modules column");
        let outside_parentheses = modules.split('(').map(|part| part.rsplit(')').next().unwrap());
        for part in outside_parentheses {
            for name in part.split('`').skip(1).step_by(2) {
                layers.insert(name.to_string(), layer);
            }
        }
    }
    layers
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_module_of_the_controller_imports_from_a_layer_above_its_own() {
    let layers = layers_in_the_docs();
    let src = repository().join("server/src");
    let mut wrong = Vec::new();
    for file in sources(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue; // declares every module
        }
        let Some(&own) = layers.get(&module) else {
            wrong.push(format!("{module} is not in docs/architecture.md's table"));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for used in text.split("crate::").skip(1) {
            let name: String =
                used.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            match layers.get(&name) {
                Some(&layer) if layer > own => wrong.push(format!(
                    "{} uses crate::{name}, a layer above {module}'s",
                    relative.display()
                )),
                None if name != module => wrong
                    .push(format!("{name} (used by {}) is not in the table", relative.display())),
                _ => {}
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
