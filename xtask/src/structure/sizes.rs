//! The size rules of the code that ships: no source file over
//! [`MAX_FILE_LINES`] lines, no `impl` block over [`MAX_IMPL_LINES`].

use std::path::Path;

use super::modules::Tree;

/// Longest source file of a library or binary target, in lines.
pub const MAX_FILE_LINES: usize = 500;
/// Longest `impl` block, in lines from its `{` to its `}`.
pub const MAX_IMPL_LINES: usize = 250;

/// One line per file or `impl` block over its bound.
pub fn oversized(tree: &Tree, relative: &dyn Fn(&Path) -> String) -> Vec<String> {
    let mut found = Vec::new();
    for (file, _, ast) in tree.parsed() {
        let path = &tree.files()[file];
        let lines = std::fs::read_to_string(path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines > MAX_FILE_LINES {
            found.push(format!(
                "{}: {lines} lines (at most {MAX_FILE_LINES}): split it by job",
                relative(path)
            ));
        }
        impls(&ast.items, &mut |imp| {
            let open = imp.brace_token.span.open().start().line;
            let close = imp.brace_token.span.close().start().line;
            let lines = close.saturating_sub(open) + 1;
            if lines > MAX_IMPL_LINES {
                found.push(format!(
                    "{}:{open}: an impl block of {lines} lines (at most {MAX_IMPL_LINES}): split it by phase or job",
                    relative(path)
                ));
            }
        });
    }
    found
}

/// Calls `each` on every `impl` block, in inline modules too.
fn impls(items: &[syn::Item], each: &mut dyn FnMut(&syn::ItemImpl)) {
    for item in items {
        match item {
            syn::Item::Impl(imp) => each(imp),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    impls(inner, each);
                }
            }
            _ => {}
        }
    }
}
