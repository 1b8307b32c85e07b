//! The controller's and the relay's layers, as docs/architecture.md draws them ("Where
//! things live in the controller", "... in the relay"), are the code's: no module imports
//! from a layer above its own, every module is in the table, and no modules, nor files
//! inside one, import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Module → layer (0 at the bottom), from the second column of the table under `section`:
/// the first backquoted word of each name (`store` of "`store` (`embedded`, …)").
fn layers_in_the_docs(section: &str) -> BTreeMap<String, usize> {
    let docs = std::fs::read_to_string(repository().join("docs/architecture.md")).unwrap();
    let table = docs
        .split(&format!("## {section}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("the section {section}"))
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

/// Module → the other modules of the crate it uses (`crate::name`), for every top-level
/// module of the crate in `src` but `lib`, which declares and composes them all.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(src) {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let used = imports.entry(module.clone()).or_default();
        for after in text.split("crate::").skip(1) {
            let name: String =
                after.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if name != module && !name.is_empty() {
                used.insert(name);
            }
        }
    }
    imports
}

/// What is wrong with `src`'s modules against the table under `section`.
fn misplaced(src: &str, section: &str) -> Vec<String> {
    let layers = layers_in_the_docs(section);
    let mut wrong = Vec::new();
    for (module, used) in imports(&repository().join(src)) {
        let Some(&own) = layers.get(&module) else {
            wrong.push(format!("{src}: {module} is not in docs/architecture.md's table"));
            continue;
        };
        for name in used {
            match layers.get(&name) {
                Some(&layer) if layer > own => {
                    wrong.push(format!("{src}: {module} uses crate::{name}, a layer above its own"))
                }
                None => wrong.push(format!("{src}: {name} (used by {module}) is not in the table")),
                _ => {}
            }
        }
    }
    wrong
}

/// A circle of modules that import each other, if there is one.
fn circle(imports: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_string());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for used in imports.get(module).into_iter().flatten() {
            if let Some(circle) = visit(used, imports, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    imports.keys().find_map(|module| visit(module, imports, &mut Vec::new(), &mut done))
}

/// File → the other files of the crate it uses, each file named by its module path
/// (`store::embedded::messages`; a `mod.rs` by its directory's). A `crate::`, `self::` or
/// `super::` path counts as a use of the deepest file it reaches; uses between a module
/// and its own sub-modules (a facade re-exporting them, a child using its parent's
/// types) are how Rust nests modules, not circles, and are left out. Test modules too.
fn file_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let module_of = |file: &Path| -> Vec<String> {
        let relative = file.strip_prefix(src).unwrap().with_extension("");
        let mut path: Vec<String> =
            relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
            path.pop();
        }
        path
    };
    let files: Vec<(Vec<String>, PathBuf)> =
        sources(src).into_iter().map(|f| (module_of(&f), f)).collect();
    let known: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut imports = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut used = BTreeSet::new();
        for (at, _) in code.match_indices("::") {
            let before = &code[..at];
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let words: Vec<&str> = code[start..]
                .split("::")
                .take_while(|w| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
                .collect();
            if start + words.first().map_or(0, |w| w.len()) != at {
                continue; // not the first `::` of this path
            }
            let mut path: Vec<String> = match words.first() {
                Some(&"crate") => Vec::new(),
                Some(&"self") => module.clone(),
                Some(&"super") => module[..module.len().saturating_sub(1)].to_vec(),
                _ => continue,
            };
            let mut rest = words[1..].iter().peekable();
            while rest.peek() == Some(&&"super") {
                path.pop();
                rest.next();
            }
            path.extend(rest.map(|w| w.to_string()));
            let reached = (1..=path.len()).rev().map(|n| &path[..n]).find(|p| known.contains(*p));
            if let Some(reached) = reached
                && !reached.starts_with(module)
                && !module.starts_with(reached)
            {
                used.insert(reached.join("::"));
            }
        }
        imports.insert(module.join("::"), used);
    }
    imports
}

#[test]
fn no_module_of_the_controller_imports_from_a_layer_above_its_own() {
    let wrong = misplaced("server/src", "Where things live in the controller");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_module_of_the_relay_imports_from_a_layer_above_its_own() {
    let wrong = misplaced("relay/src", "Where things live in the relay");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    for src in ["server/src", "relay/src"] {
        let imports = imports(&repository().join(src));
        assert!(imports.len() > 5, "{src}: its modules were found");
        assert_eq!(circle(&imports), None, "{src}: modules importing each other");
    }
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    for src in ["server/src", "relay/src"] {
        let imports = file_imports(&repository().join(src));
        assert!(imports.len() > 5, "{src}: its files were found");
        assert_eq!(circle(&imports), None, "{src}: files importing each other");
    }
}

#[test]
fn a_circle_is_found() {
    let imports: BTreeMap<String, BTreeSet<String>> =
        [("a", &["b"][..]), ("b", &["c"][..]), ("c", &["a", "d"][..]), ("d", &[][..])]
            .into_iter()
            .map(|(m, used)| (m.to_string(), used.iter().map(|u| u.to_string()).collect()))
            .collect();
    assert_eq!(circle(&imports).unwrap(), ["a", "b", "c", "a"]);
    let mut without = imports.clone();
    without.get_mut("c").unwrap().remove("a");
    assert_eq!(circle(&without), None);
}
