//! Parsers and writers that are pure functions of bytes: no I/O, no clock. Every rejection names
//! where in the input it happened.

pub mod document;
pub mod gift;
pub mod health_csv;
pub mod item_bank;
pub mod markdown;
pub mod people_csv;
pub mod program;
pub mod qti;
pub mod transcript;

#[cfg(test)]
mod examples {
    /// Every file under examples/content/<program>/ is a valid transcript or Markdown document.
    #[test]
    fn the_example_content_parses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/content");
        let mut count = 0;
        for program in std::fs::read_dir(&root).expect("examples/content exists") {
            let program = program.unwrap().path();
            if !program.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&program).unwrap() {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                let result = if name.ends_with(".md") {
                    crate::markdown::parse(&bytes)
                } else {
                    let format = crate::transcript::detect(&bytes, Some(&name)).expect(&name);
                    crate::transcript::parse(
                        &bytes,
                        format,
                        &crate::transcript::TranscriptOptions::default(),
                    )
                };
                if let Err(errors) = result {
                    let list: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
                    panic!("{} is invalid:\n{}", path.display(), list.join("\n"));
                }
                count += 1;
            }
        }
        assert!(
            count >= 8,
            "at least two files per example program, found {count}"
        );
    }
}

#[cfg(test)]
mod example_items {
    /// Every item file under examples/items/ is valid.
    #[test]
    fn the_example_item_banks_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/items");
        let mut items = 0;
        for entry in std::fs::read_dir(&root).expect("examples/items exists") {
            let path = entry.unwrap().path();
            match crate::item_bank::parse(&std::fs::read(&path).unwrap()) {
                Ok(parsed) => {
                    items += parsed.len();
                    // The key's own response scores: what the demo's simulated candidates rely on.
                    for item in &parsed {
                        let keyed = item.body.keyed_response();
                        assert!(
                            accredit_domain::exam::is_correct(&item.body, &keyed),
                            "{}: `{}` is not scored correct for its keyed response {keyed:?}",
                            path.display(),
                            item.id
                        );
                    }
                }
                Err(errors) => {
                    let list: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
                    panic!("{} is invalid:\n{}", path.display(), list.join("\n"));
                }
            }
        }
        assert!(items >= 20, "{items} example items");
    }
}
