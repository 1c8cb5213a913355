//! `cargo xtask structure`: the workspace's module graph, read from its own
//! imports, and the check that keeps it free of cycles.
//!
//! For every library and binary target of every workspace member, the module
//! tree is found from the crate root by following `mod` declarations, and each
//! file's `use` items and `crate::`/`super::`/`self::` paths are resolved, through
//! re-exports, to the file that defines the name. Code under `#[cfg(test)]` is
//! left out: the rule is about the code that ships. A `pub use` of a module's
//! own descendant is its face, not an import (like `mod`); a path through a
//! face depends on the face and on the file behind it. A file imports another when
//! one of its paths resolves there; a circle of such imports fails the check.
//!
//! The core's layers are checked on the same graph (`layers`), and the size
//! rules on the same files: none over 500 lines, no
//! `impl` block over 250.
//!
//! Each target's files are printed by floor: a file that imports nothing of
//! its own crate is on floor 0, any other file one floor above the highest file
//! it imports. `cargo xtask test` runs the check before the test suite.

mod graph;
mod layers;
mod modules;
mod resolve;
mod sizes;

use std::path::{Path, PathBuf};

use crate::util::{root, say, Res};

/// A crate target to read: the package name and the root file.
struct Target {
    package: String,
    label: String,
    root_file: PathBuf,
    is_lib: bool,
}

/// `cargo xtask structure [--graph]`: prints each target's floors and fails on
/// an import cycle. With `--graph`, also every file-to-file import.
pub fn run(args: &[String]) -> Res<()> {
    let show_edges = args.iter().any(|a| a == "--graph");
    if let Some(other) = args.iter().find(|a| *a != "--graph") {
        return Err(format!("structure: unknown option `{other}` (try --graph)"));
    }
    check(show_edges, true)
}

/// Reads every target, prints the floors (when `verbose`) and returns an error
/// naming each cycle found.
pub fn check(show_edges: bool, verbose: bool) -> Res<()> {
    let root = root();
    let mut cycles = Vec::new();
    let mut oversized = Vec::new();
    let mut files = 0;
    let targets = targets(&root)?;
    let mut core = None;
    let mut backends = Vec::new();
    for target in &targets {
        let tree = modules::discover(&target.root_file)?;
        let edges = resolve::edges(&tree)?;
        let layered = target.is_lib && target.package == layers::CORE_PACKAGE;
        let backend = target.is_lib && layers::BACKEND_PACKAGES.contains(&target.package.as_str());
        let pairs: Vec<(usize, usize)> = edges.keys().copied().collect();
        let graph = graph::Graph::new(tree.files().len(), &pairs);
        files += tree.files().len();
        let rel = |i: usize| relative(&root, &tree.files()[i]);
        if verbose {
            say(format!(
                "structure: {} ({} files, {} imports between them)",
                target.label,
                tree.files().len(),
                edges.len()
            ));
            if let Some(floors) = graph.floors() {
                for (floor, members) in floors.iter().enumerate().rev() {
                    let names: Vec<String> = members.iter().map(|&i| rel(i)).collect();
                    say(format!("  floor {floor}: {}", names.join(", ")));
                }
            }
            if show_edges {
                for (&(from, to), names) in &edges {
                    say(format!("  {} -> {}: {}", rel(from), rel(to), joined(names)));
                }
            }
        }
        oversized.extend(sizes::oversized(&tree, &|p| relative(&root, p)));
        for cycle in graph.cycles() {
            let names: Vec<String> = cycle.iter().map(|&i| rel(i)).collect();
            let mut text = format!("{}: {}", target.label, names.join(" <-> "));
            for (&(from, to), taken) in &edges {
                if cycle.contains(&from) && cycle.contains(&to) {
                    text.push_str(&format!(
                        "\n    {} -> {}: {}",
                        rel(from),
                        rel(to),
                        joined(taken)
                    ));
                }
            }
            cycles.push(text);
        }
        if layered {
            core = Some((tree, edges));
        } else if backend {
            backends.push(tree);
        }
    }
    let layering = match &core {
        Some((tree, edges)) => {
            let text = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md"))
                .map_err(|e| format!("structure: cannot read docs/ARCHITECTURE.md: {e}"))?;
            let table = layers::layer_table(&text).map_err(|e| format!("structure: {e}"))?;
            let rel = |p: &Path| relative(&root, p);
            let mut wrong = layers::check_core(&table, tree, edges, &rel);
            for backend in &backends {
                wrong.extend(layers::check_backend(&table, tree, backend, &rel));
            }
            wrong
        }
        None => vec![format!(
            "the core ({}) was not found among the targets",
            layers::CORE_PACKAGE
        )],
    };
    let mut problems = Vec::new();
    if !layering.is_empty() {
        problems.push(format!(
            "{} against the core's layers (docs/ARCHITECTURE.md, \"Layers of the core\"):\n  {}",
            layering.len(),
            layering.join("\n  ")
        ));
    }
    if !cycles.is_empty() {
        problems.push(format!(
            "{} import cycle(s); move what ties each circle to the lower file or a module below both:\n  {}",
            cycles.len(),
            cycles.join("\n  ")
        ));
    }
    if !oversized.is_empty() {
        problems.push(format!(
            "{} over the size rule:\n  {}",
            oversized.len(),
            oversized.join("\n  ")
        ));
    }
    if problems.is_empty() {
        say(format!(
            "structure: {} targets, {files} files, no import cycle, the core's layers hold, no file over {} lines, no impl over {}",
            targets.len(),
            sizes::MAX_FILE_LINES,
            sizes::MAX_IMPL_LINES
        ));
        Ok(())
    } else {
        Err(format!("structure: {}", problems.join("\nstructure: ")))
    }
}

/// The library and binary targets of the workspace members, from
/// `cargo metadata` (test, bench and example targets are not read).
fn targets(root: &Path) -> Res<Vec<Target>> {
    let out = crate::util::cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("structure: cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "structure: cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("structure: cargo metadata printed no JSON: {e}"))?;
    let mut targets = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or("?");
        for t in package["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = t["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .collect();
            let kind = if kinds.contains(&"lib") || kinds.contains(&"proc-macro") {
                "lib"
            } else if kinds.contains(&"bin") {
                "bin"
            } else {
                continue;
            };
            let Some(src) = t["src_path"].as_str() else {
                continue;
            };
            targets.push(Target {
                package: name.to_owned(),
                is_lib: kind == "lib",
                label: format!("{name} ({kind} {})", t["name"].as_str().unwrap_or("?")),
                root_file: PathBuf::from(src),
            });
        }
    }
    targets.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(targets)
}

/// At most six names, then how many more.
fn joined(names: &std::collections::BTreeSet<String>) -> String {
    let shown: Vec<&str> = names.iter().take(6).map(String::as_str).collect();
    match names.len().saturating_sub(6) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cycles of a crate written from `(file, text)` pairs.
    fn cycles_of(files: &[(&str, &str)]) -> Vec<Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let tree = modules::discover(&dir.path().join("lib.rs")).unwrap();
        let edges: Vec<(usize, usize)> = resolve::edges(&tree).unwrap().keys().copied().collect();
        graph::Graph::new(tree.files().len(), &edges)
            .cycles()
            .into_iter()
            .map(|c| {
                c.iter()
                    .map(|&i| relative(dir.path(), &tree.files()[i]))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn two_files_that_take_names_from_each_other_are_a_cycle() {
        let cycles = cycles_of(&[
            ("lib.rs", "mod a;\nmod b;\n"),
            (
                "a.rs",
                "use crate::b::Bee;\npub struct Ay;\nfn f(_: Bee) {}\n",
            ),
            (
                "b.rs",
                "pub struct Bee;\nfn g() -> crate::a::Ay { crate::a::Ay }\n",
            ),
        ]);
        assert_eq!(cycles, vec![vec!["a.rs".to_owned(), "b.rs".to_owned()]]);
    }

    #[test]
    fn the_crate_roots_face_and_test_code_tie_nothing() {
        let cycles = cycles_of(&[
            (
                "lib.rs",
                "mod a;\nmod b;\npub use a::Ay;\npub use b::Bee;\n",
            ),
            (
                "a.rs",
                "pub struct Ay;\n#[cfg(test)]\nmod tests { use crate::b::Bee; }\n",
            ),
            (
                "b.rs",
                "use crate::Ay;\npub struct Bee(Ay);\npub(crate) fn f() {}\n",
            ),
        ]);
        assert!(cycles.is_empty(), "{cycles:?}");
    }

    #[test]
    fn a_parent_whose_code_uses_a_child_that_uses_the_parent_is_a_cycle() {
        // `b` reaches `Shared` in `p`, and `p`'s code holds a `b::Bee`. A
        // face (`pub use b::Bee`) alone would tie nothing.
        let cycles = cycles_of(&[
            ("lib.rs", "mod p;\nmod c;\n"),
            (
                "p/mod.rs",
                "mod b;\npub use b::Bee;\npub struct Shared;\npub struct Holder(b::Bee);\n",
            ),
            ("p/b.rs", "pub struct Bee(super::Shared);\n"),
            ("c.rs", "use crate::p::Bee;\n"),
        ]);
        assert_eq!(
            cycles,
            vec![vec!["p/mod.rs".to_owned(), "p/b.rs".to_owned()]]
        );
        let faces_only = cycles_of(&[
            ("lib.rs", "mod p;\n"),
            ("p/mod.rs", "mod b;\npub use b::Bee;\npub struct Shared;\n"),
            ("p/b.rs", "pub struct Bee(super::Shared);\n"),
        ]);
        assert!(faces_only.is_empty(), "{faces_only:?}");
    }
}
