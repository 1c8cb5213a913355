//! The core's layers, checked against its code.
//!
//! docs/ARCHITECTURE.md ("Layers of the core") names each layer and its
//! modules, lowest first. This test reads that table and every source file
//! of the core, and fails when a module uses (`crate::module`) a module of a
//! layer above its own, when modules of one layer use each other round a
//! loop, when a module is missing from the table, or when a store backend
//! crate (`central-auth-vault`) uses more of the core than the store contract
//! and the layers below it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer a store backend may use at most.
const BACKEND_CEILING: &str = "records";

/// The layer table of docs/ARCHITECTURE.md: (layer, modules), lowest first.
fn layer_table() -> Vec<(String, Vec<String>)> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ARCHITECTURE.md");
    let text = std::fs::read_to_string(&doc).expect("docs/ARCHITECTURE.md is readable");
    let section = text
        .split("\n### Layers of the core")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"### Layers of the core\" section");
    let mut layers = Vec::new();
    for line in section.lines().skip(1) {
        if line.starts_with('#') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | layer | modules | may not use |
        if cells.len() < 4
            || cells[1].is_empty()
            || cells[1] == "layer"
            || cells[1].starts_with('-')
        {
            continue;
        }
        let modules = cells[2]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        layers.push((cells[1].trim_matches('*').to_owned(), modules));
    }
    assert!(!layers.is_empty(), "the layer table has no rows");
    layers
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a source file without comments and without its unit tests
/// (a `#[cfg(test)] mod ... {` block runs to the end of the file by the
/// project's convention; test-only files are skipped by the caller).
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            let next = lines.peek().map(|l| l.trim()).unwrap_or_default();
            if next.ends_with('{') && next.contains("mod ") {
                break;
            }
        }
        let line = line.split("//").next().unwrap_or_default();
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every `<prefix>name` in `code`: the first path segment after the prefix.
fn uses(code: &str, prefix: &str) -> BTreeSet<String> {
    code.match_indices(prefix)
        .filter(|(at, _)| {
            // `crate::` but not `my_crate::`.
            code[..*at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
        .filter_map(|(at, _)| {
            let rest = &code[at + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

/// The top-level module a core source file belongs to (`store/file.rs`:
/// `store`), or `None` for the crate root and test-only files.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    if rel.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (name != "lib" && name != "layers").then_some(name)
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let layers = layer_table();
    let rank: BTreeMap<&str, (usize, &str)> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, (layer, modules))| {
            modules
                .iter()
                .map(move |m| (m.as_str(), (i, layer.as_str())))
        })
        .collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("source is readable");
        let Some(&(here, here_layer)) = rank.get(module.as_str()) else {
            wrong.push(format!(
                "module `{module}` is in no layer: add it to the table in docs/ARCHITECTURE.md"
            ));
            continue;
        };
        for used in uses(&code(&text), "crate::") {
            if used == module {
                continue;
            }
            match rank.get(used.as_str()) {
                Some(&(there, there_layer)) if there > here => wrong.push(format!(
                    "{}: `{module}` ({here_layer}) uses `{used}` ({there_layer}), a layer above",
                    file.display()
                )),
                Some(_) => {
                    graph.entry(module.clone()).or_default().insert(used);
                }
                None => wrong.push(format!(
                    "{}: `{module}` uses `{used}`, which is in no layer",
                    file.display()
                )),
            }
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        wrong.push(format!(
            "modules use each other in a loop: {}",
            cycle.join(" -> ")
        ));
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn a_store_backend_uses_only_the_store_contract_and_below() {
    let layers = layer_table();
    let ceiling = layers
        .iter()
        .position(|(l, _)| l == BACKEND_CEILING)
        .expect("the table has the store contract's layer");
    let allowed: BTreeSet<&str> = layers[..=ceiling]
        .iter()
        .flat_map(|(_, m)| m.iter().map(String::as_str))
        .collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../central-auth-vault/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(!files.is_empty(), "the Vault store's sources are found");
    let mut wrong = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source is readable");
        for used in uses(&code(&text), "central_auth_core::") {
            if !allowed.contains(used.as_str()) {
                wrong.push(format!(
                    "{}: the backend uses `central_auth_core::{used}`, above the store contract",
                    file.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A loop in `graph`, as the modules round it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_check_sees_uses_and_loops() {
    let text = "use crate::store::file;\n// crate::broker in a comment\nfn f() { crate::net::host_of(x); my_crate::x(); }\n#[cfg(test)]\nmod tests {\n use crate::broker;\n}\n";
    let found = uses(&code(text), "crate::");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["net", "store"]);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
