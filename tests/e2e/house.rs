//! The house: inside every crate, modules form a tree. A file may use what files below it
//! define, never what a file that uses it defines, directly or around a circle. Read from the
//! code's own `crate::` paths (the crate root, which only declares and re-exports, is left
//! out), so a new cycle fails here before review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module path of a source file, relative to its crate's `src/`: `routes/mod.rs` and
/// `routes.rs` are `routes`, `routes/submit.rs` is `routes::submit`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::a::b::c` paths in `text` (outside comments), as their segments.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
                .collect();
            let segs: Vec<String> = path
                .split("::")
                .map(|s| s.trim_matches('{').to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            out.push(segs);
            rest = tail;
        }
    }
    out
}

/// The cycles among the modules of the crate at `src`, each as the modules around it.
fn cycles(src: &Path) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    files(src, &mut all);
    let modules: BTreeMap<String, PathBuf> = all
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .filter(|(m, _)| m != "lib" && m != "main" && !m.starts_with("bin"))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, f) in &modules {
        let text = std::fs::read_to_string(f).unwrap();
        for segs in crate_paths(&text) {
            // The longest prefix that names a module file: that file is used.
            let target = (1..=segs.len())
                .rev()
                .map(|n| segs[..n].join("::"))
                .find(|p| modules.contains_key(p));
            if let Some(t) = target
                && t != *m
            {
                edges.entry(m.clone()).or_default().insert(t);
            }
        }
    }
    // Depth-first search; a node met again on the current path closes a cycle.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(i) = path.iter().position(|p| p == n) {
            found.push(path[i..].to_vec());
            return;
        }
        if !done.insert(n.to_owned()) {
            return;
        }
        path.push(n.to_owned());
        for t in edges.get(n).into_iter().flatten() {
            visit(t, edges, path, done, found);
        }
        path.pop();
    }
    let (mut done, mut found) = (BTreeSet::new(), Vec::new());
    for m in modules.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn the_modules_of_every_crate_form_a_tree() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut bad = Vec::new();
    for e in std::fs::read_dir(&crates).unwrap().flatten() {
        let src = e.path().join("src");
        if src.is_dir() {
            for c in cycles(&src) {
                bad.push(format!(
                    "{}: {}",
                    e.file_name().to_string_lossy(),
                    c.join(" -> ")
                ));
            }
        }
    }
    assert!(bad.is_empty(), "module cycles:\n{}", bad.join("\n"));
}

/// The check itself sees a cycle when there is one.
#[test]
fn a_cycle_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::write(src.join("b.rs"), "pub struct B(crate::a::A);\n").unwrap();
    assert_eq!(cycles(src).len(), 1);
    std::fs::write(src.join("b.rs"), "pub struct B;\n").unwrap();
    assert!(cycles(src).is_empty());
}

/// The names under a manifest's `[dependencies]` (not dev- or build-dependencies).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().split('.').next().unwrap_or("").trim();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// Architecture invariants of ARCHITECTURE.md: each storage engine, the HTTP stack and the
/// PKCS#11 binding each belong to one crate.
#[test]
fn each_outside_system_is_known_by_one_crate() {
    let owners = [
        ("rocksdb", "log"),
        ("axum", "api"),
        ("hyper", "api"),
        ("hyper-util", "api"),
        ("cryptoki", "hsm"),
        ("postgres", "postgres"),
        // Ciphers stay in the crate whose formats they are: one place to review them.
        ("chacha20poly1305", "seal"),
        ("hkdf", "seal"),
    ];
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut bad = Vec::new();
    let mut seen = Vec::new();
    for e in std::fs::read_dir(&crates).unwrap().flatten() {
        let Ok(manifest) = std::fs::read_to_string(e.path().join("Cargo.toml")) else {
            continue;
        };
        let name = e.file_name().to_string_lossy().into_owned();
        for dep in dependencies(&manifest) {
            for (system, owner) in owners {
                if dep == system {
                    seen.push(system);
                    if name != owner {
                        bad.push(format!(
                            "crates/{name} depends on {system}, which is {owner}'s"
                        ));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The check reads the manifests it means to: every owner is seen depending on its system.
    for (system, _) in owners {
        assert!(seen.contains(&system), "no crate depends on {system}");
    }
}
