//! Which file of a crate target each path in its code leads to: `crate::`,
//! `super::`, `self::`, child modules and imported names, followed through
//! re-exports and glob imports to the file whose items define the name.

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;

use super::modules::{flatten_use, is_test_only, ModPath, Tree};
use crate::util::Res;

/// File-to-file imports: (importer, imported) -> the names taken.
pub type Imports = BTreeMap<(usize, usize), BTreeSet<String>>;

/// How many re-exports a path is followed through before giving up.
const MAX_HOPS: usize = 16;

/// Every file-to-file import of the target, each pair once, sorted, with the
/// names the first file takes from the second.
pub fn edges(tree: &Tree) -> Res<Imports> {
    Ok(visit_all(tree, None).0)
}

/// The paths into another crate, `name`, that the target's code writes out
/// (`use name::a::b`, `name::a::f()`), each with the file it is in and the
/// segments after `name`.
pub fn external_paths(tree: &Tree, name: &str) -> Vec<(usize, Vec<String>)> {
    visit_all(tree, Some(name)).1
}

fn visit_all(tree: &Tree, external: Option<&str>) -> (Imports, Vec<(usize, Vec<String>)>) {
    let mut found = Imports::new();
    let mut outside = Vec::new();
    for (file, module, ast) in tree.parsed() {
        let mut visitor = Visitor {
            tree,
            file,
            module: module.clone(),
            found: &mut found,
            external,
            outside: &mut outside,
        };
        for item in &ast.items {
            visitor.visit_item(item);
        }
    }
    (found, outside)
}

struct Visitor<'a> {
    tree: &'a Tree,
    file: usize,
    module: ModPath,
    found: &'a mut Imports,
    /// A crate whose paths are collected in `outside`.
    external: Option<&'a str>,
    outside: &'a mut Vec<(usize, Vec<String>)>,
}

impl Visitor<'_> {
    fn record(&mut self, segments: &[String]) {
        if let (Some(name), Some((first, rest))) = (self.external, segments.split_first()) {
            if first == name && !rest.is_empty() {
                self.outside.push((self.file, rest.to_vec()));
            }
        }
        for to in locate(self.tree, &self.module, segments) {
            if to != self.file {
                if let Some(name) = segments.last() {
                    self.found
                        .entry((self.file, to))
                        .or_default()
                        .insert(name.clone());
                }
            }
        }
    }
}

impl Visitor<'_> {
    /// Whether `segments`, written in the current module, name something in
    /// one of its own descendant modules.
    fn is_descendant_path(&self, segments: &[String]) -> bool {
        absolutize(self.tree, &self.module, segments, 0).is_some_and(|abs| {
            abs.len() > self.module.len() + 1
                && abs.starts_with(&self.module)
                && self.tree.modules.contains_key(&abs[..=self.module.len()])
        })
    }
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            _ => &Vec::new(),
        };
        if is_test_only(attrs) {
            return;
        }
        match item {
            syn::Item::Mod(m) => {
                // Only inline modules: a declared one is its own file.
                if let Some((_, items)) = &m.content {
                    self.module.push(m.ident.to_string());
                    for i in items {
                        self.visit_item(i);
                    }
                    self.module.pop();
                }
            }
            syn::Item::Use(u) => {
                // A module's public face (`pub use child::Name`) is not an
                // import of the child: like `mod child;`, it only says what
                // the module shows. Code that uses the name is; and a path
                // through the face depends on both the face and the child.
                let face = !matches!(u.vis, syn::Visibility::Inherited);
                for (path, _) in flatten_use(&u.tree, Vec::new()) {
                    if face && self.is_descendant_path(&path) {
                        continue;
                    }
                    self.record(&path);
                }
            }
            other => syn::visit::visit_item(self, other),
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if let syn::ImplItem::Fn(f) = item {
            if is_test_only(&f.attrs) {
                return;
            }
        }
        syn::visit::visit_impl_item(self, item);
    }

    /// `pub(crate)`, `pub(super)`, `pub(in path)` say who may see an item;
    /// they import nothing.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && !path.segments.is_empty() {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.record(&segments);
        }
        syn::visit::visit_path(self, path);
    }
}

/// The files a path written in `module` leads to: the file that defines the
/// name, and every module below the crate root whose re-export the path
/// passes through (a path through `a::Name`, re-exported from `a::b`, depends
/// on both `a`'s face and `a::b`). Empty for a path outside the target.
pub fn locate(tree: &Tree, module: &ModPath, segments: &[String]) -> Vec<usize> {
    let mut files = Vec::new();
    if let Some(absolute) = absolutize(tree, module, segments, 0) {
        find(tree, &absolute, 0, &mut files);
    }
    files
}

/// The path from the crate root that `segments`, written in `module`, names;
/// `None` for a path outside the target (std, another crate, a local name).
fn absolutize(tree: &Tree, module: &ModPath, segments: &[String], hops: usize) -> Option<ModPath> {
    let (first, rest) = segments.split_first()?;
    if hops > MAX_HOPS {
        return None;
    }
    match first.as_str() {
        "crate" => Some(rest.to_vec()),
        "self" => Some(module.iter().chain(rest).cloned().collect()),
        "super" => {
            let mut base = module.clone();
            base.pop();
            let mut rest = rest;
            while let Some((s, r)) = rest.split_first() {
                if s != "super" {
                    break;
                }
                base.pop();
                rest = r;
            }
            Some(base.into_iter().chain(rest.iter().cloned()).collect())
        }
        name => {
            let mut child = module.clone();
            child.push(name.to_owned());
            if tree.modules.contains_key(&child) {
                return Some(child.into_iter().chain(rest.iter().cloned()).collect());
            }
            let imported = tree.modules.get(module)?.imports.get(name)?;
            let base = absolutize(tree, module, imported, hops + 1)?;
            Some(base.into_iter().chain(rest.iter().cloned()).collect())
        }
    }
}

/// Pushes the file that defines what the absolute `path` names (and the
/// re-exporting modules on the way) onto `files`; true when the name was found
/// defined, false when only the deepest module on the path is known.
fn find(tree: &Tree, path: &[String], hops: usize, files: &mut Vec<usize>) -> bool {
    let mut depth = path.len();
    while depth > 0 && !tree.modules.contains_key(&path[..depth]) {
        depth -= 1;
    }
    let module_path = path[..depth].to_vec();
    let Some(module) = tree.modules.get(&module_path) else {
        return false;
    };
    let Some((name, rest)) = path[depth..].split_first() else {
        files.push(module.file);
        return true;
    };
    if module.defined.contains(name) || hops > MAX_HOPS {
        files.push(module.file);
        return true;
    }
    // A re-export: this module's face, then where the name comes from.
    let mark = files.len();
    if depth > 0 {
        files.push(module.file);
    }
    if let Some(imported) = module.imports.get(name) {
        let Some(target) = absolutize(tree, &module_path, imported, hops + 1) else {
            // A re-export of something outside the target.
            files.truncate(mark);
            files.push(module.file);
            return true;
        };
        let full: Vec<String> = target.into_iter().chain(rest.iter().cloned()).collect();
        return find(tree, &full, hops + 1, files);
    }
    for glob in &module.globs {
        if let Some(source) = absolutize(tree, &module_path, glob, hops + 1) {
            let full: Vec<String> = source
                .into_iter()
                .chain(path[depth..].iter().cloned())
                .collect();
            let before = files.len();
            if find(tree, &full, hops + 1, files) {
                return true;
            }
            files.truncate(before);
        }
    }
    files.truncate(mark);
    files.push(module.file);
    false
}
