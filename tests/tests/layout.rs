//! The workspace's layout rule: no module imports another that imports it back.
//!
//! Each crate's files are modules (`lib.rs`/`main.rs` = the root, `x/mod.rs` = `x`). A file
//! depends on another when it names a path into it (`use crate::…`, `super::…`, `self::…`, or an
//! inline `crate::…` path). A child naming one of its ancestors (`super::Screen` from
//! `screens/home.rs`) is the parent/child tie every Rust module has and is not counted; every
//! other edge is. A circle is a strongly connected set of two or more files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

#[test]
fn no_crate_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    let mut crates = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let src = dir.join("src");
        if src.is_dir() && dir.join("Cargo.toml").exists() {
            crates += 1;
            for circle in circles(&src) {
                found.push(circle.join(", "));
            }
        }
    }
    assert!(crates >= 7, "the workspace's crates were not found");
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_a_circle_and_ignores_a_child_naming_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("screens")).unwrap();
    let write = |p: &str, t: &str| std::fs::write(src.join(p), t).unwrap();
    write("lib.rs", "mod screens; mod theme; mod nav;");
    write(
        "screens/mod.rs",
        "mod home;\nuse crate::theme::{widget::{a, b}, palette};",
    );
    write(
        "screens/home.rs",
        "use super::Action; // a child naming its parent",
    );
    write("theme.rs", "fn f() { crate::screens::Action::Go; }");
    write("nav.rs", "/* use crate::theme; */ use crate::screens;");
    let found = circles(src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].iter().any(|f| f.ends_with("screens/mod.rs")));
    assert!(found[0].iter().any(|f| f.ends_with("theme.rs")));
    write("theme.rs", "fn f() {}");
    assert!(circles(src).is_empty());
}

/// The circles among the files under `src`, each as its sorted file list.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let files = crate_files(src);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for path in named_paths(&code_without_tests(&text)) {
            let Some(target) = resolve(module, &path, &files) else {
                continue;
            };
            if target == *module || module.starts_with(&target) {
                continue;
            }
            edges.entry(module.clone()).or_default().insert(target);
        }
    }
    strongly_connected(&files, &edges)
        .into_iter()
        .filter(|set| set.len() > 1)
        .map(|set| {
            let mut names: Vec<String> = set
                .iter()
                .map(|m| {
                    let workspace = src.parent().and_then(Path::parent).unwrap_or(src);
                    let file = &files[m];
                    file.strip_prefix(workspace)
                        .unwrap_or(file)
                        .display()
                        .to_string()
                })
                .collect();
            names.sort();
            names
        })
        .collect()
}

fn crate_files(src: &Path) -> BTreeMap<Module, PathBuf> {
    let has_lib = src.join("lib.rs").exists();
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(src).unwrap();
            if path.is_dir() {
                if rel != Path::new("bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let mut parts: Module = rel
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts == ["main"] && has_lib {
                continue;
            }
            if parts == ["lib"] || parts == ["main"] || parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The text before the unit tests, without comments.
fn code_without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('/') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if after.starts_with("//") {
            rest = after.find('\n').map_or("", |n| &after[n..]);
        } else if after.starts_with("/*") {
            rest = after.find("*/").map_or("", |n| &after[n + 2..]);
        } else {
            out.push('/');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    match out.find("#[cfg(test)]\nmod tests") {
        Some(i) => out[..i].to_string(),
        None => out,
    }
}

/// Every `crate::`, `super::` or `self::` path the code names, `use` trees expanded.
fn named_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let boundary = i == 0 || !is_ident(rest[..i].chars().last().unwrap());
        rest = &rest[i + 4..];
        let tree = rest.split(';').next().unwrap_or("").trim();
        if boundary
            && ["crate", "super", "self"]
                .iter()
                .any(|r| tree.starts_with(r))
        {
            expand(tree, "", &mut out);
        }
    }
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let at_start = i == 0 || !is_ident(bytes[i - 1]);
        if at_start && is_ident(bytes[i]) {
            let mut j = i;
            while j < bytes.len() && (is_ident(bytes[j]) || bytes[j] == ':') {
                j += 1;
            }
            let word: String = bytes[i..j].iter().collect();
            let word = word.trim_end_matches(':');
            if (word.starts_with("crate::") || word.starts_with("super::")) && word.contains("::") {
                out.push(word.to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (and `a` itself).
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let (head, body) = match tree.find('{') {
        Some(i) if tree.ends_with('}') => (&tree[..i], Some(&tree[i + 1..tree.len() - 1])),
        _ => (tree, None),
    };
    let head = head.trim().trim_end_matches("::");
    let head = head.split(" as ").next().unwrap_or(head).trim();
    let full = match (prefix.is_empty(), head.is_empty()) {
        (true, _) => head.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}::{head}"),
    };
    if full.is_empty() || head == "self" {
        return;
    }
    out.push(full.clone());
    let Some(body) = body else { return };
    let mut depth = 0;
    let mut start = 0;
    for (i, ch) in body.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand(&body[start..i], &full, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    expand(&body[start..], &full, out);
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The module a path lands in: the longest prefix of it that is a file of the crate.
fn resolve(here: &Module, path: &str, files: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut parts: Vec<&str> = path.split("::").collect();
    let mut base: Module = match parts[0] {
        "crate" => Vec::new(),
        _ => here.clone(),
    };
    parts.remove(0);
    if path.starts_with("super") {
        base.pop();
        while parts.first() == Some(&"super") {
            base.pop();
            parts.remove(0);
        }
    }
    let full: Module = base
        .into_iter()
        .chain(parts.iter().map(|p| p.to_string()))
        .collect();
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| files.contains_key(m))
}

/// Tarjan's strongly connected components.
fn strongly_connected(
    files: &BTreeMap<Module, PathBuf>,
    edges: &BTreeMap<Module, BTreeSet<Module>>,
) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        out: Vec<Vec<Module>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &Module) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut set = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = w == *v;
                    set.push(w);
                    if done {
                        break;
                    }
                }
                self.out.push(set);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in files.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.out
}
