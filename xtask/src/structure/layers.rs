//! The core's layers (docs/ARCHITECTURE.md, "Layers of the core"), checked on
//! the same import graph as the cycles: no top-level module of the core uses
//! one of a layer above its own, modules of one layer never use each other
//! round a loop, every module is in the table, and a store backend crate uses
//! nothing of the core above the store contract's layer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::graph::Graph;
use super::modules::Tree;
use super::resolve::{self, Imports};

/// The layer a store backend may use at most.
const BACKEND_CEILING: &str = "records";

/// The core's package and its name in paths.
pub const CORE_PACKAGE: &str = "central-auth-core";
const CORE_CRATE: &str = "central_auth_core";
/// The store backend crates, which depend on the contract only.
pub const BACKEND_PACKAGES: &[&str] = &["central-auth-vault", "central-auth-keyring"];

/// The layer table: (layer, its modules), lowest first, from the text of
/// docs/ARCHITECTURE.md.
pub fn layer_table(architecture: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let section = architecture
        .split("\n### Layers of the core")
        .nth(1)
        .ok_or(
            "docs/ARCHITECTURE.md has no \"### Layers of the core\" section: add the layer table",
        )?;
    let mut layers = Vec::new();
    for line in section.lines().skip(1) {
        if line.starts_with('#') {
            break;
        }
        // | layer | modules | may not use |
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
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
    if layers.is_empty() {
        return Err("the layer table in docs/ARCHITECTURE.md has no rows".to_owned());
    }
    Ok(layers)
}

/// The top-level module of each file of `tree` (`None` for the crate root).
fn top_modules(tree: &Tree) -> Vec<Option<String>> {
    let mut top = vec![None; tree.files().len()];
    for (file, module, _) in tree.parsed() {
        top[file] = module.first().cloned();
    }
    top
}

/// One line per broken rule of the core's layers.
pub fn check_core(
    layers: &[(String, Vec<String>)],
    core: &Tree,
    edges: &Imports,
    relative: &dyn Fn(&Path) -> String,
) -> Vec<String> {
    let rank: BTreeMap<&str, (usize, &str)> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, (layer, modules))| {
            modules
                .iter()
                .map(move |m| (m.as_str(), (i, layer.as_str())))
        })
        .collect();
    let top = top_modules(core);
    let mut wrong = BTreeSet::new();
    for module in top.iter().flatten() {
        if !rank.contains_key(module.as_str()) {
            wrong.insert(format!(
                "module `{module}` is in no layer: add it to the table in docs/ARCHITECTURE.md"
            ));
        }
    }
    // Module-level graph between modules of the same layer, for loops.
    let present: BTreeSet<&str> = top.iter().flatten().map(String::as_str).collect();
    let names: Vec<&str> = present
        .into_iter()
        .filter(|m| rank.contains_key(m))
        .collect();
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut same_layer = Vec::new();
    for (&(from, to), taken) in edges {
        let (Some(a), Some(b)) = (&top[from], &top[to]) else {
            continue;
        };
        if a == b {
            continue;
        }
        let (Some(&(here, here_layer)), Some(&(there, there_layer))) =
            (rank.get(a.as_str()), rank.get(b.as_str()))
        else {
            continue;
        };
        if there > here {
            wrong.insert(format!(
                "{}: `{a}` ({here_layer}) uses `{b}` ({there_layer}), a layer above: {}",
                relative(&core.files()[from]),
                taken.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        } else if there == here {
            if let (Some(&i), Some(&j)) = (index.get(a.as_str()), index.get(b.as_str())) {
                same_layer.push((i, j));
            }
        }
    }
    for cycle in Graph::new(names.len(), &same_layer).cycles() {
        let round: Vec<&str> = cycle.iter().map(|&i| names[i]).collect();
        wrong.insert(format!(
            "modules use each other in a loop: {}",
            round.join(" <-> ")
        ));
    }
    wrong.into_iter().collect()
}

/// One line per use of the core by a store backend above the contract's layer.
pub fn check_backend(
    layers: &[(String, Vec<String>)],
    core: &Tree,
    backend: &Tree,
    relative: &dyn Fn(&Path) -> String,
) -> Vec<String> {
    let Some(ceiling) = layers.iter().position(|(l, _)| l == BACKEND_CEILING) else {
        return vec![format!(
            "the layer table has no `{BACKEND_CEILING}` layer (the store contract's)"
        )];
    };
    let allowed: BTreeSet<&str> = layers[..=ceiling]
        .iter()
        .flat_map(|(_, m)| m.iter().map(String::as_str))
        .collect();
    let top = top_modules(core);
    let mut wrong = BTreeSet::new();
    for (file, path) in resolve::external_paths(backend, CORE_CRATE) {
        let mut in_core = vec!["crate".to_owned()];
        in_core.extend(path.iter().cloned());
        for used in resolve::locate(core, &Vec::new(), &in_core) {
            if let Some(module) = &top[used] {
                if !allowed.contains(module.as_str()) {
                    wrong.insert(format!(
                        "{}: the backend uses `{CORE_CRATE}::{}` (module `{module}`), above the store contract",
                        relative(&backend.files()[file]),
                        path.join("::")
                    ));
                }
            }
        }
    }
    wrong.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::modules;

    const TABLE: &str = "\n### Layers of the core\n\n| layer | modules | may not use |\n|---|---|---|\n| ground | `a`, `b` | any other |\n| records | `store` | config |\n| top | `broker` | - |\n\n## Next\n";

    fn tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let tree = modules::discover(&dir.path().join("lib.rs")).unwrap();
        (dir, tree)
    }

    fn core_problems(files: &[(&str, &str)]) -> Vec<String> {
        let (_dir, core) = tree(files);
        let edges = resolve::edges(&core).unwrap();
        let table = layer_table(TABLE).unwrap();
        check_core(&table, &core, &edges, &|p| p.display().to_string())
    }

    #[test]
    fn an_upward_use_a_loop_in_a_layer_and_a_missing_module_are_named() {
        let good = core_problems(&[
            (
                "lib.rs",
                "mod a;\nmod b;\nmod store;\nmod broker;\npub use broker::Broker;\n",
            ),
            ("a.rs", "pub struct A;\n"),
            ("b.rs", "pub struct B(crate::a::A);\n"),
            ("store/mod.rs", "mod file;\npub struct S(crate::b::B);\n"),
            ("store/file.rs", "pub struct F(super::S);\n"),
            ("broker.rs", "pub struct Broker(crate::store::S);\n"),
        ]);
        assert!(good.is_empty(), "{good:?}");
        let bad = core_problems(&[
            ("lib.rs", "mod a;\nmod b;\nmod broker;\nmod extra;\n"),
            ("a.rs", "pub struct A;\npub fn f(_: &crate::b::B) {}\npub fn g(_: &crate::broker::Broker) {}\n"),
            ("b.rs", "use super::a;\npub struct B(a::A);\n"),
            ("broker.rs", "pub struct Broker;\n"),
            ("extra.rs", "\n"),
        ]);
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(
            bad.iter()
                .any(|l| l.contains("`a` (ground) uses `broker` (top)")),
            "{bad:?}"
        );
        assert!(bad.iter().any(|l| l.contains("loop: a <-> b")), "{bad:?}");
        assert!(
            bad.iter().any(|l| l.contains("`extra` is in no layer")),
            "{bad:?}"
        );
    }

    #[test]
    fn a_backend_may_use_the_contract_and_below_only() {
        let (_c, core) = tree(&[
            (
                "lib.rs",
                "pub mod a;\npub mod store;\npub mod broker;\npub use broker::Broker;\n",
            ),
            ("a.rs", "pub struct A;\n"),
            ("store.rs", "pub trait TokenStore {}\n"),
            ("broker.rs", "pub struct Broker;\n"),
        ]);
        let table = layer_table(TABLE).unwrap();
        let (_b, fine) = tree(&[(
            "lib.rs",
            "use central_auth_core::store::TokenStore;\npub fn f(_: central_auth_core::a::A) {}\n",
        )]);
        assert!(check_backend(&table, &core, &fine, &|p| p.display().to_string()).is_empty());
        // Through the root's re-export too.
        let (_d, above) = tree(&[("lib.rs", "use central_auth_core::Broker;\n")]);
        let wrong = check_backend(&table, &core, &above, &|p| p.display().to_string());
        assert_eq!(wrong.len(), 1, "{wrong:?}");
        assert!(wrong[0].contains("module `broker`"), "{wrong:?}");
    }
}
