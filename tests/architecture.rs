//! The house rules of `src/`, checked on the source itself (docs/architecture.md, "Layers"): the
//! top-level modules import each other in one direction only. A circle (`vault` calls `agent`, which calls
//! back into `vault`) fails here with the files that close it, so it is fixed where it starts rather than
//! found later as a module nobody can move.
//!
//! "Imports" means any path through `crate::NAME` (a `use`, a full path in code, a doc link is not
//! counted: comments are stripped), in any file under `src/NAME/` or `src/NAME.rs`, tests included.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// `text` without its comments (line and block comments; string literals are kept as they are, which
/// can only add an edge, never hide one).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut depth = 1;
                while depth > 0 {
                    match (chars.next(), chars.peek()) {
                        (Some('*'), Some('/')) => {
                            chars.next();
                            depth -= 1;
                        }
                        (Some('/'), Some('*')) => {
                            chars.next();
                            depth += 1;
                        }
                        (None, _) => break,
                        _ => {}
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The top-level modules each `crate::` path in `code` names: `crate::a::b`, and every first segment of
/// a group, `crate::{a, b::{c, d}}`.
fn named(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `my_crate::` or `teamotp_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && c == ',' {
                    names.extend(first_segment(&item));
                    item.clear();
                } else {
                    item.push(c);
                }
            }
            names.extend(first_segment(&item));
        } else {
            names.extend(first_segment(rest));
        }
    }
    names
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// module -> (module it imports -> the files that import it).
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    sources(src, &mut files);
    let module_of = |path: &Path| -> Option<String> {
        let rel = path.strip_prefix(src).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        let name = first.strip_suffix(".rs").unwrap_or(first);
        (name != "lib" && name != "main").then(|| name.to_owned())
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for file in &files {
        let Some(from) = module_of(file) else {
            continue;
        };
        let code = strip_comments(&fs::read_to_string(file).unwrap());
        for to in named(&code) {
            if to != from && modules.contains(&to) {
                let shown = file.strip_prefix(src).unwrap().display().to_string();
                graph
                    .get_mut(&from)
                    .unwrap()
                    .entry(to)
                    .or_default()
                    .insert(shown);
            }
        }
    }
    graph
}

/// One circle of the graph, as the modules along it (the first repeated at the end), if there is one.
fn circle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph[node].keys() {
            match marks[next] {
                Mark::Open => {
                    let start = path.iter().position(|n| n == next).unwrap();
                    let mut found = path[start..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Mark::New => {
                    if let Some(found) = visit(next, graph, marks, path) {
                        return Some(found);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks: BTreeMap<String, Mark> = graph.keys().map(|k| (k.clone(), Mark::New)).collect();
    for node in graph.keys() {
        if marks[node] == Mark::New
            && let Some(found) = visit(node, graph, &mut marks, &mut Vec::new())
        {
            return Some(found);
        }
    }
    None
}

/// The circle with the files behind each of its edges, for the failure message.
fn explain(graph: &Graph, found: &[String]) -> String {
    let mut text = format!("import circle: {}\n", found.join(" -> "));
    for pair in found.windows(2) {
        let files: Vec<&str> = graph[&pair[0]][&pair[1]]
            .iter()
            .map(String::as_str)
            .collect();
        text.push_str(&format!(
            "  {} -> {}: {}\n",
            pair[0],
            pair[1],
            files.join(", ")
        ));
    }
    text
}

#[test]
fn top_level_modules_import_each_other_in_one_direction_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&src);
    // The check sees the modules it must see (a wrong path would make it pass on nothing).
    for module in [
        "age", "agent", "trust", "vault", "config", "env", "commands", "files",
    ] {
        assert!(
            graph.contains_key(module),
            "no module '{module}' under src/"
        );
    }
    assert!(
        graph["vault"].contains_key("age") && graph["commands"].contains_key("vault"),
        "the scan found no imports at all: {graph:?}"
    );
    if let Some(found) = circle(&graph) {
        panic!("{}", explain(&graph, &found));
    }
}

/// The rules docs/architecture.md names, by name: the agent does not call back into the vault, the
/// envelope and trust stay below the vault and the agent, `env` does not read the config, and the shell
/// (`cli`, `commands`, `dispatch`) is imported by nothing below it (`commands` reaches `cli` in its tests
/// only: the completion scripts are checked against clap's).
#[test]
fn the_agent_env_and_the_shell_stay_where_they_belong() {
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    for (low, high) in [
        ("agent", "vault"),
        ("agent", "commands"),
        ("age", "vault"),
        ("age", "trust"),
        ("age", "agent"),
        ("trust", "vault"),
        ("trust", "agent"),
        ("env", "config"),
    ] {
        assert!(
            !graph[low].contains_key(high),
            "{low} imports {high} in {:?}",
            graph[low][high]
        );
    }
    for (module, imports) in &graph {
        for shell in ["cli", "commands", "dispatch"] {
            let allowed = match (module.as_str(), shell) {
                ("dispatch", "cli" | "commands") => true,
                ("commands", "cli") => imports[shell].iter().all(|f| f == "commands/complete.rs"),
                _ => false,
            };
            assert!(
                !imports.contains_key(shell) || allowed,
                "{module} imports {shell} in {:?}",
                imports[shell]
            );
        }
    }
    // The one test-only import of `cli` in `commands` is inside its tests.
    let complete = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands/complete.rs"),
    )
    .unwrap();
    let tests_start = complete
        .find("#[cfg(test)]")
        .expect("complete.rs has tests");
    assert!(
        !complete[..tests_start].contains("crate::cli"),
        "commands/complete.rs imports cli outside its tests"
    );
}

/// The scanner itself, on a small tree with a circle through a group import, a circle hidden in a
/// comment (not counted) and a full path in code.
#[test]
fn the_scan_finds_a_circle_and_ignores_comments() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    fs::create_dir_all(dir.join("b")).unwrap();
    fs::write(dir.join("lib.rs"), "pub mod a; pub mod b; pub mod c;").unwrap();
    fs::write(dir.join("a.rs"), "use crate::{c, b::{x, y}};\n").unwrap();
    fs::write(dir.join("b/mod.rs"), "// crate::a in a comment\nmod x;\n").unwrap();
    fs::write(
        dir.join("b/x.rs"),
        "fn f() { crate::c::g(); /* crate::a */ }\nconst S: &str = \"//\";\nfn h() { crate::a::f() }\n",
    )
    .unwrap();
    fs::write(dir.join("c.rs"), "pub fn g() {}\n").unwrap();
    let graph = graph(dir);
    assert_eq!(
        graph["a"].keys().collect::<Vec<_>>(),
        ["b", "c"],
        "{graph:?}"
    );
    assert_eq!(graph["b"].keys().collect::<Vec<_>>(), ["a", "c"]);
    let found = circle(&graph).expect("a -> b -> a");
    assert_eq!(found, ["a", "b", "a"]);
    assert!(explain(&graph, &found).contains("b -> a: b/x.rs"));
    // Without the full path in b/x.rs there is no circle: the comments never counted.
    fs::write(
        dir.join("b/x.rs"),
        "fn f() { crate::c::g(); /* crate::a */ }\n",
    )
    .unwrap();
    assert_eq!(circle(&graph_of(dir)), None);
}

fn graph_of(dir: &Path) -> Graph {
    graph(dir)
}
