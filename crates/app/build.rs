//! Builds the demo's training content into the binary: every file under
//! examples/content/<program>/<module>.<md|vtt|srt> becomes an entry of `DEMO_CONTENT`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/content");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut entries = Vec::new();
    if let Ok(programs) = std::fs::read_dir(&root) {
        for program in programs.flatten() {
            let program_path = program.path();
            println!("cargo:rerun-if-changed={}", program_path.display());
            let Ok(files) = std::fs::read_dir(&program_path) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                let (Some(stem), Some(name)) = (path.file_stem(), path.file_name()) else {
                    continue;
                };
                entries.push((
                    program.file_name().to_string_lossy().into_owned(),
                    stem.to_string_lossy().into_owned(),
                    name.to_string_lossy().into_owned(),
                    path.canonicalize().expect("content path"),
                ));
            }
        }
    }
    entries.sort();
    let mut code = String::from(
        "/// (program, module, file name, bytes) of the demo's training content.\npub const DEMO_CONTENT: &[(&str, &str, &str, &[u8])] = &[\n",
    );
    for (program, module, name, path) in entries {
        writeln!(
            code,
            "    ({program:?}, {module:?}, {name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("write");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("demo_content.rs");
    std::fs::write(out, code).expect("write demo_content.rs");
}
