//! The layers of `src/` import one way only (docs/architecture.md, "Module
//! map"). This test reads every `crate::…` path in the sources and fails on
//! an import that points up a layer, on a cycle between top-level modules,
//! and on a cycle between the modules inside one top-level module. A new
//! top-level module fails it until it is given a layer here.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, from the top. A module may import from its
/// own layer (where the graph stays acyclic) and from the layers below.
const LAYERS: &[(&str, &[&str])] = &[
    ("composition root", &["app"]),
    ("development only", &["dev"]),
    ("slices", &["booking", "retention"]),
    (
        "shared services",
        &["auth", "notify", "audit", "idempotency"],
    ),
    (
        "platform",
        &[
            "openapi",
            "http",
            "ops",
            "crypto",
            "db",
            "config",
            "domain",
            "clock",
            "telemetry",
        ],
    ),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn imports_point_down_the_layers() {
    let graph = top_level_graph(&sources());
    let layer_of = |module: &str| {
        LAYERS
            .iter()
            .position(|(_, modules)| modules.contains(&module))
            .unwrap_or_else(|| panic!("src/{module} has no layer in tests/layers.rs"))
    };
    let upward: Vec<String> = graph
        .iter()
        .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
        .filter(|(from, to)| layer_of(to) < layer_of(from))
        .map(|(from, to)| {
            format!(
                "{from} ({}) imports {to} ({})",
                LAYERS[layer_of(from)].0,
                LAYERS[layer_of(to)].0
            )
        })
        .collect();
    assert!(
        upward.is_empty(),
        "imports that point up:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_cycle_between_top_level_modules() {
    let cycles = cycles(&top_level_graph(&sources()));
    assert!(cycles.is_empty(), "module cycles: {cycles:?}");
}

#[test]
fn no_cycle_between_the_modules_of_one_top_level_module() {
    let files = sources();
    let tops: BTreeSet<String> = files.iter().map(|f| f.module[0].clone()).collect();
    for top in tops {
        let cycles = cycles(&inner_graph(&files, &top));
        assert!(cycles.is_empty(), "cycles inside src/{top}: {cycles:?}");
    }
}

/// The check itself catches what it is for: two modules importing each
/// other, and a longer loop.
#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        graph
    };
    assert!(cycles(&graph(&[("a", "b"), ("b", "c")])).is_empty());
    assert_eq!(cycles(&graph(&[("a", "b"), ("b", "a")])), [["a", "b"]]);
    assert_eq!(
        cycles(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])),
        [["a", "b", "c"]]
    );
    let file = SourceFile {
        module: vec!["http".into(), "cors".into()],
        text: "use crate::{db::Db, idempotency::IDEMPOTENCY_KEY};\n// crate::app in a comment\n"
            .into(),
    };
    assert_eq!(
        paths_in(&file).collect::<Vec<_>>(),
        [vec!["db", "Db"], vec!["idempotency", "IDEMPOTENCY_KEY"]]
    );
}

struct SourceFile {
    /// `src/booking/reservations/store.rs` is `["booking", "reservations", "store"]`.
    module: Vec<String>,
    text: String,
}

fn sources() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&root).unwrap().with_extension("");
            let mut module: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            // The crate root and the binary sit above every layer.
            if module == ["lib"] || module == ["main"] {
                return None;
            }
            let text = fs::read_to_string(&path).unwrap();
            Some(SourceFile { module, text })
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Code without comments, so that a doc link is not an import.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that starts at `crate::`, with `use crate::{a::X, b}` groups
/// opened (one level, which is how rustfmt writes them here).
fn paths_in(file: &SourceFile) -> impl Iterator<Item = Vec<String>> {
    let code = code(&file.text);
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            paths.extend(group.split(',').map(path_of).filter(|p| !p.is_empty()));
        } else {
            paths.push(path_of(rest));
        }
    }
    paths.into_iter()
}

fn path_of(text: &str) -> Vec<String> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn top_level_graph(files: &[SourceFile]) -> Graph {
    let mut graph = Graph::new();
    for file in files {
        let from = &file.module[0];
        for path in paths_in(file) {
            if path[0] != *from {
                graph
                    .entry(from.clone())
                    .or_default()
                    .insert(path[0].clone());
            }
        }
    }
    graph
}

/// Edges between the direct children of `top`: `crate::top::a` paths, and
/// `super::a` in a file that is itself a direct child. The parent's own
/// file (`mod.rs`) is the module's face, so it is left out.
fn inner_graph(files: &[SourceFile], top: &str) -> Graph {
    let mut graph = Graph::new();
    for file in files
        .iter()
        .filter(|f| f.module[0] == top && f.module.len() > 1)
    {
        let from = &file.module[1];
        let mut targets: Vec<String> = paths_in(file)
            .filter(|p| p[0] == top && p.len() > 2)
            .map(|p| p[1].clone())
            .collect();
        if file.module.len() == 2 {
            let code = code(&file.text);
            for (at, _) in code.match_indices("super::") {
                let rest = &code[at + "super::".len()..];
                let rest = rest.strip_prefix('{').unwrap_or(rest);
                for part in rest.split(['}', ';']).next().unwrap_or_default().split(',') {
                    let path = path_of(part);
                    // `super::child::Item`: an item of a sibling module.
                    if path.len() > 1 && path[0] != "super" {
                        targets.push(path[0].clone());
                    }
                }
            }
        }
        for to in targets.into_iter().filter(|to| to != from) {
            graph.entry(from.clone()).or_default().insert(to);
        }
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan),
/// each sorted, in order.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().rposition(|m| *m == node).unwrap();
                let mut component: Vec<String> =
                    self.stack.drain(at..).map(str::to_owned).collect();
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.found.sort();
    walk.found
}
