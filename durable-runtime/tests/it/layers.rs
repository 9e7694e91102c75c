//! The layer order of `src/lib.rs` ("# Layers") holds: no module imports from a layer listed after
//! its own. Every `crate::` path in code (comments aside) counts, grouped imports and paths through
//! the crate root's re-exports included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One module's place: its path (`ops`, `checkpoint::memory`) and its layer number.
type Layers = BTreeMap<String, usize>;

/// Reads the numbered list under `# Layers` in the crate docs: ``//! 3. `checkpoint`: ...``.
fn layers(lib: &str) -> Layers {
    let section = lib.split("//! # Layers").nth(1).expect("src/lib.rs has a `# Layers` section");
    let mut layers = Layers::new();
    for line in section.lines().skip(1).take_while(|l| l.starts_with("//!")) {
        let text = line.trim_start_matches("//!").trim_start();
        let Some((number, rest)) = text.split_once(". ") else { continue };
        let Ok(number) = number.parse::<usize>() else { continue };
        let names = rest.split(": ").next().unwrap_or_default();
        for name in names.split(',') {
            layers.insert(name.trim().trim_matches('`').to_owned(), number);
        }
    }
    layers
}

/// The module a path like `checkpoint::memory::state` belongs to: its longest listed prefix.
fn owner<'a>(layers: &'a Layers, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split("::").collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find_map(|p| layers.get_key_value(&p).map(|(k, _)| k.as_str()))
}

/// Root re-exports (`pub use invocation::{Handler, Options};`): item name to module path.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in lib.lines().filter_map(|l| l.trim().strip_prefix("pub use ")) {
        let line = line.trim_end_matches(';');
        let (module, items) = match line.split_once("::{") {
            Some((module, items)) => (module, items.trim_end_matches('}').split(',').collect::<Vec<_>>()),
            None => match line.rsplit_once("::") {
                Some((module, item)) => (module, vec![item]),
                None => continue,
            },
        };
        for item in items {
            let item = item.split(" as ").last().unwrap_or(item).trim();
            map.insert(item.to_owned(), module.trim().to_owned());
        }
    }
    map
}

/// Every `crate::` path in the code of `source` (comment lines skipped), grouped imports expanded.
fn crate_paths(source: &str) -> Vec<(usize, String)> {
    let mut paths = Vec::new();
    for (number, line) in source.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let preceded = rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
            rest = &rest[at + "crate::".len()..];
            if preceded {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or_default();
                for item in group.split(',') {
                    paths.push((number + 1, item.trim().to_owned()));
                }
                continue;
            }
            let path: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            paths.push((number + 1, path.trim_end_matches(':').to_owned()));
        }
    }
    paths
}

/// The module a source file belongs to, from its path under `src`.
fn file_module(layers: &Layers, relative: &Path) -> Option<String> {
    let mut segments: Vec<String> =
        relative.iter().map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    if segments == ["lib"] {
        return None;
    }
    if segments.first().is_some_and(|s| s == "private") {
        segments[0] = "__private".to_owned();
    }
    owner(layers, &segments.join("::")).map(str::to_owned)
}

/// Checks `files` (path under `src`, source) against the layers of `lib`; one line per violation.
fn violations(lib: &str, files: &[(PathBuf, String)]) -> Vec<String> {
    let layers = layers(lib);
    let reexports = reexports(lib);
    let mut found = Vec::new();
    for (relative, source) in files {
        let Some(module) = file_module(&layers, relative) else { continue };
        let from = layers[&module];
        for (line, path) in crate_paths(source) {
            let first = path.split("::").next().unwrap_or_default();
            let resolved = match reexports.get(first) {
                Some(module) => module.clone(),
                None => path.clone(),
            };
            let Some(target) = owner(&layers, &resolved) else {
                found.push(format!("{}:{line}: `crate::{path}` is in no layer of src/lib.rs", relative.display()));
                continue;
            };
            if layers[target] > from {
                found.push(format!(
                    "{}:{line}: `{module}` (layer {from}) imports `crate::{path}` from `{target}` (layer {})",
                    relative.display(),
                    layers[target]
                ));
            }
        }
    }
    found
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            out.push((path.strip_prefix(root).unwrap().to_owned(), source));
        }
    }
}

#[test]
fn no_module_imports_from_a_later_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    assert!(files.len() > 40, "read {} files", files.len());
    let found = violations(&lib, &files);
    assert!(found.is_empty(), "imports against the layer order:\n{}", found.join("\n"));
}

#[test]
fn every_module_of_src_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let layers = layers(&lib);
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    let unplaced: Vec<_> =
        files.iter().filter(|(p, _)| p != Path::new("lib.rs") && file_module(&layers, p).is_none()).collect();
    assert!(unplaced.is_empty(), "files in no layer: {:?}", unplaced.iter().map(|(p, _)| p).collect::<Vec<_>>());
}

/// The check catches a circle: with `engine` importing from `invocation` (as it once did through
/// `Execution::with_options(&Options)`), both a direct path and one through a root re-export fail.
#[test]
fn an_upward_import_is_reported() {
    let lib = "//! # Layers\n//!\n//! 1. `protocol`: wire.\n//! 2. `engine`: replay.\n//! 3. `invocation`: one call.\n\
               pub use invocation::{Handler, Options};\n";
    let files = vec![
        (
            PathBuf::from("engine/mod.rs"),
            "use crate::protocol::Operation;\nfn f(o: &crate::invocation::Options) {}\n".to_owned(),
        ),
        (
            PathBuf::from("engine/ids.rs"),
            "// crate::invocation in a comment is fine\nuse crate::{protocol, Options};\n".to_owned(),
        ),
        (PathBuf::from("invocation.rs"), "use crate::engine::Execution;\n".to_owned()),
    ];
    let found = violations(lib, &files);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("engine/mod.rs:2: `engine` (layer 2) imports `crate::invocation::Options`"),
        "{}",
        found[0]
    );
    assert!(
        found[1].starts_with("engine/ids.rs:2: `engine` (layer 2) imports `crate::Options` from `invocation`"),
        "{}",
        found[1]
    );
}
