//! The module tree of one crate target: which file holds which module, what
//! each module defines and what it imports, found from the crate root by
//! following `mod` declarations. Items under `#[cfg(test)]` are left out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::util::Res;

/// A module path from the crate root (`[]` is the root).
pub type ModPath = Vec<String>;

/// What one module (a file, or an inline `mod x { .. }` in a file) holds.
#[derive(Default)]
pub struct Module {
    /// Index of the file the module's items are in.
    pub file: usize,
    /// Names its items define (types, functions, consts, modules, ...).
    pub defined: HashSet<String>,
    /// Names its `use` items bind, each to the path as written.
    pub imports: HashMap<String, Vec<String>>,
    /// The sources of its glob imports (`use a::b::*`), as written.
    pub globs: Vec<Vec<String>>,
}

/// Every file and module of one crate target, with the parsed files.
pub struct Tree {
    files: Vec<PathBuf>,
    asts: Vec<syn::File>,
    /// The module path each file holds at its top.
    file_modules: Vec<ModPath>,
    pub modules: BTreeMap<ModPath, Module>,
}

impl Tree {
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Each file's parsed items and the module path they sit in.
    pub fn parsed(&self) -> impl Iterator<Item = (usize, &ModPath, &syn::File)> {
        self.asts
            .iter()
            .enumerate()
            .map(|(i, ast)| (i, &self.file_modules[i], ast))
    }
}

/// Reads the target whose root file is `root_file` and every file its `mod`
/// declarations reach.
pub fn discover(root_file: &Path) -> Res<Tree> {
    let mut tree = Tree {
        files: Vec::new(),
        asts: Vec::new(),
        file_modules: Vec::new(),
        modules: BTreeMap::new(),
    };
    let dir = root_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    read_file(&mut tree, root_file, Vec::new(), &dir)?;
    Ok(tree)
}

/// Whether the attributes carry `#[cfg(test)]`.
pub fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(list) if list.tokens.to_string() == "test")
    })
}

fn read_file(tree: &mut Tree, file: &Path, path: ModPath, child_dir: &Path) -> Res<()> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("structure: cannot read {}: {e}", file.display()))?;
    let ast = syn::parse_file(&text)
        .map_err(|e| format!("structure: cannot parse {}: {e}", file.display()))?;
    let index = tree.files.len();
    tree.files.push(file.to_path_buf());
    tree.file_modules.push(path.clone());
    let items = ast.items.clone();
    tree.asts.push(ast);
    read_items(tree, index, &items, path, child_dir)
}

/// Records a module's items, then reads its child modules: inline ones in the
/// same file, declared ones from `child_dir/NAME.rs` or `child_dir/NAME/mod.rs`.
fn read_items(
    tree: &mut Tree,
    file: usize,
    items: &[syn::Item],
    path: ModPath,
    child_dir: &Path,
) -> Res<()> {
    let mut module = Module {
        file,
        ..Module::default()
    };
    let mut children = Vec::new();
    for item in items {
        if is_test_only(item_attrs(item)) {
            continue;
        }
        if let Some(name) = defined_name(item) {
            module.defined.insert(name);
        }
        match item {
            syn::Item::Use(u) => bind_use(&u.tree, Vec::new(), &mut module),
            syn::Item::Mod(m) => children.push(m),
            _ => {}
        }
    }
    tree.modules.insert(path.clone(), module);
    for m in children {
        let name = m.ident.to_string();
        let mut child_path = path.clone();
        child_path.push(name.clone());
        let grandchild_dir = child_dir.join(&name);
        match &m.content {
            Some((_, items)) => read_items(tree, file, items, child_path, &grandchild_dir)?,
            None => {
                let flat = child_dir.join(format!("{name}.rs"));
                let nested = grandchild_dir.join("mod.rs");
                let found = if flat.is_file() { flat } else { nested };
                read_file(tree, &found, child_path, &grandchild_dir)?;
            }
        }
    }
    Ok(())
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::ExternCrate(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::ForeignMod(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::TraitAlias(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn defined_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        syn::Item::Mod(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// Records the names a `use` tree binds (and its globs) in `module`.
fn bind_use(tree: &syn::UseTree, prefix: Vec<String>, module: &mut Module) {
    for (path, bound) in flatten_use(tree, prefix) {
        match bound {
            Bound::Name(name) => {
                module.imports.insert(name, path);
            }
            Bound::Glob => module.globs.push(path),
            Bound::Nothing => {}
        }
    }
}

/// What a leaf of a `use` tree binds.
pub enum Bound {
    Name(String),
    Glob,
    Nothing,
}

/// The leaves of a `use` tree: each full path as written and what it binds.
pub fn flatten_use(tree: &syn::UseTree, prefix: Vec<String>) -> Vec<(Vec<String>, Bound)> {
    let mut out = Vec::new();
    flatten_into(tree, prefix, &mut out);
    out
}

fn flatten_into(tree: &syn::UseTree, mut prefix: Vec<String>, out: &mut Vec<(Vec<String>, Bound)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_into(&p.tree, prefix, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                let bound = prefix.last().cloned().map_or(Bound::Nothing, Bound::Name);
                out.push((prefix, bound));
            } else {
                prefix.push(name.clone());
                out.push((prefix, Bound::Name(name)));
            }
        }
        syn::UseTree::Rename(r) => {
            let name = r.ident.to_string();
            if name != "self" {
                prefix.push(name);
            }
            let rename = r.rename.to_string();
            let bound = if rename == "_" {
                Bound::Nothing
            } else {
                Bound::Name(rename)
            };
            out.push((prefix, bound));
        }
        syn::UseTree::Glob(_) => out.push((prefix, Bound::Glob)),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                flatten_into(item, prefix.clone(), out);
            }
        }
    }
}
