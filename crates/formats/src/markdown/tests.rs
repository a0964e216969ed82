use super::*;

fn doc(markdown: &str) -> Document {
    match parse(markdown.as_bytes()) {
        Ok(document) => document,
        Err(errors) => panic!("rejected: {errors:?}"),
    }
}

fn errors(bytes: &[u8]) -> Vec<String> {
    match parse(bytes) {
        Ok(document) => panic!("accepted: {document:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The blocks of a document that should have a single section.
fn blocks(markdown: &str) -> Vec<Block> {
    let document = doc(markdown);
    assert_eq!(document.sections.len(), 1, "{document:?}");
    document.sections.into_iter().next().unwrap().blocks
}

fn section(heading: &str, anchor: &str, blocks: Vec<Block>) -> Section {
    Section {
        heading: heading.into(),
        anchor: anchor.into(),
        start_ms: None,
        blocks,
    }
}

fn p(text: &str) -> Block {
    Block::Paragraph {
        text: text.into(),
        start_ms: None,
        speaker: None,
    }
}

fn code(language: Option<&str>, text: &str) -> Block {
    Block::Code {
        language: language.map(Into::into),
        text: text.into(),
    }
}

fn list(ordered: bool, items: &[&str]) -> Block {
    Block::List {
        ordered,
        items: items.iter().map(|&i| i.into()).collect(),
    }
}

fn quote(text: &str) -> Block {
    Block::Quote { text: text.into() }
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|&c| c.into()).collect()
}

#[test]
fn headings_of_level_one_to_three_start_sections() {
    let document = doc("# Partner Onboarding\n\
         \n\
         Welcome to the *programme*.\n\
         \n\
         ## Getting started\n\
         \n\
         Read this first.\n\
         \n\
         ### Accounts & access\n\
         \n\
         Create an account.\n\
         \n\
         #### Details *matter*\n\
         \n\
         Fine print.\n\
         \n\
         ## Getting started\n\
         \n\
         Again.\n\
         \n\
         Closing words\n\
         =============\n\
         \n\
         Setext headings count too.\n");
    assert_eq!(document.title.as_deref(), Some("Partner Onboarding"));
    assert_eq!(
        document.sections,
        [
            section(
                "Partner Onboarding",
                "partner-onboarding",
                vec![p("Welcome to the programme.")]
            ),
            section(
                "Getting started",
                "getting-started",
                vec![p("Read this first.")]
            ),
            section(
                "Accounts & access",
                "accounts-access",
                vec![
                    p("Create an account."),
                    p("Details matter"),
                    p("Fine print.")
                ]
            ),
            section("Getting started", "getting-started-2", vec![p("Again.")]),
            section(
                "Closing words",
                "closing-words",
                vec![p("Setext headings count too.")]
            ),
        ]
    );
}

#[test]
fn text_before_the_first_heading_is_the_introduction() {
    let document = doc("Some words first.\n\n## Part one\n\nBody.\n\n# Late title\n\nEnd.\n");
    assert_eq!(document.title.as_deref(), Some("Late title"));
    assert_eq!(
        document.sections,
        [
            section("Introduction", "introduction", vec![p("Some words first.")]),
            section("Part one", "part-one", vec![p("Body.")]),
            section("Late title", "late-title", vec![p("End.")]),
        ]
    );

    let document = doc("No headings at all.\n");
    assert_eq!(document.title, None);
    assert_eq!(
        document.sections,
        [section(
            "Introduction",
            "introduction",
            vec![p("No headings at all.")]
        )]
    );
}

#[test]
fn a_title_with_nothing_under_it_is_only_the_title() {
    let document = doc("# Course\n\n## Module 1\n\nText.\n\n# Appendix\n\n## A1\n\nMore.\n");
    assert_eq!(document.title.as_deref(), Some("Course"));
    assert_eq!(
        document.sections,
        [
            section("Module 1", "module-1", vec![p("Text.")]),
            // Only the title's own section is left out when empty.
            section("Appendix", "appendix", vec![]),
            section("A1", "a1", vec![p("More.")]),
        ]
    );
}

#[test]
fn empty_headings_and_headings_in_containers() {
    let document = doc(
        "#\n\nUnder nothing.\n\n# *Real* title\n\n> ## Quoted heading\n\n- ### Listed heading\n",
    );
    assert_eq!(document.title.as_deref(), Some("Real title"));
    assert_eq!(
        document.sections,
        [
            section(
                "Untitled section",
                "untitled-section",
                vec![p("Under nothing.")]
            ),
            section(
                "Real title",
                "real-title",
                vec![quote("Quoted heading"), list(false, &["Listed heading"])]
            ),
        ]
    );
}

#[test]
fn inline_markup_is_reduced_to_its_text() {
    let markdown = "**Bold** and _em_, [the guide](https://example.com/guide \"Guide\"), \
                    [ref][r], `cargo  test`, ![diagram *alt*](https://example.com/d.png), \
                    ~~old~~, <https://example.com/auto>, Tom &amp; Jerry &#x263A;\n\
                    second line  \n\
                    after a hard break\\\n\
                    and another\n\
                    \n\
                    [r]: https://example.com/ref\n";
    assert_eq!(
        blocks(markdown),
        [p(
            "Bold and em, the guide, ref, cargo test, diagram alt, old, \
             https://example.com/auto, Tom & Jerry ☺ second line\n\
             after a hard break\n\
             and another"
        )]
    );
    // Link destinations are dropped; only an autolink's own text is its address.
    let all = doc(markdown).sections[0].blocks[0].text();
    assert!(!all.contains("guide\"") && !all.contains("d.png") && !all.contains("/ref"));
}

#[test]
fn code_blocks_are_verbatim_with_their_language() {
    let markdown = "```rust\n\
                    fn main() {\n\
                    \x20   println!(\"<b>hi</b> *not emphasis*\");\n\
                    }\n\
                    ```\n\
                    \n\
                    ~~~~ python {linenos=true}\n\
                    ```\n\
                    still code\n\
                    ```\n\
                    ~~~~\n\
                    \n\
                    ```rust,ignore\n\
                    let x = 1;\n\
                    \n\
                    \n\
                    let y = 2;\n\
                    ```\n\
                    \n\
                    Then indented:\n\
                    \n\
                    \x20   $ accredit serve\n\
                    \x20     --port 8080\n\
                    \n\
                    ```\n\
                    ```\n\
                    \n\
                    ```text\n\
                    \ttabs\tkept  \n\
                    ```\n";
    assert_eq!(
        blocks(markdown),
        [
            code(
                Some("rust"),
                "fn main() {\n    println!(\"<b>hi</b> *not emphasis*\");\n}"
            ),
            code(Some("python"), "```\nstill code\n```"),
            code(Some("rust"), "let x = 1;\n\n\nlet y = 2;"),
            p("Then indented:"),
            code(None, "$ accredit serve\n  --port 8080"),
            // The empty block is left out.
            code(Some("text"), "\ttabs\tkept  "),
        ]
    );
}

#[test]
fn crlf_and_a_byte_order_mark_are_accepted() {
    let document =
        parse(b"\xEF\xBB\xBF# Title\r\n\r\nLine one\r\nline two\r\n\r\n```sh\r\nmake\r\nmake install\r\n```\r\n")
            .unwrap();
    assert_eq!(document.title.as_deref(), Some("Title"));
    assert_eq!(
        document.sections[0].blocks,
        [
            p("Line one line two"),
            code(Some("sh"), "make\nmake install")
        ]
    );
}

#[test]
fn tables_keep_header_and_rows_as_plain_text() {
    let markdown = "| Tier | *Requires* | Notes |\n\
                    |------|:----------:|------:|\n\
                    | Silver | `1` [person](https://x.example) | a \\| b |\n\
                    | Gold | 3 |\n\
                    | Platinum | 5 | n | extra |\n";
    assert_eq!(
        blocks(markdown),
        [Block::Table {
            header: strings(&["Tier", "Requires", "Notes"]),
            rows: vec![
                strings(&["Silver", "1 person", "a | b"]),
                strings(&["Gold", "3", ""]),
                strings(&["Platinum", "5", "n"]),
            ],
        }]
    );
}

#[test]
fn lists_flatten_nested_items_with_indentation_and_markers() {
    let markdown = "- Install\n\
                    \x20 - Download the *package*\n\
                    \x20 - Run setup\n\
                    \x20   1. Accept\n\
                    \x20   2. Finish\n\
                    - Configure\n\
                    - [ ] Task-like text stays\n\
                    \n\
                    3. Third\n\
                    4. Fourth, with more:\n\
                    \n\
                    \x20  A second paragraph.\n\
                    \n\
                    \x20  ```sh\n\
                    \x20  accredit check\n\
                    \x20  ```\n\
                    5. Fifth\n";
    assert_eq!(
        blocks(markdown),
        [
            list(
                false,
                &[
                    "Install",
                    "- Download the package",
                    "- Run setup",
                    "  1. Accept",
                    "  2. Finish",
                    "Configure",
                    "[ ] Task-like text stays",
                ]
            ),
            list(
                true,
                &[
                    "Third",
                    "Fourth, with more:\nA second paragraph.\naccredit check",
                    "Fifth",
                ]
            ),
        ]
    );
}

#[test]
fn quotes_are_text_one_line_per_block() {
    let markdown = "> **Note:** read the\n\
                    > policy first.\n\
                    >\n\
                    > - one\n\
                    > - two\n\
                    >   1. two-a\n\
                    >\n\
                    > > nested quote\n\
                    >\n\
                    > ```\n\
                    > \x20 indented code\n\
                    > ```\n\
                    \n\
                    After.\n";
    assert_eq!(
        blocks(markdown),
        [
            quote(
                "Note: read the policy first.\n- one\n- two\n  1. two-a\nnested quote\n  indented code"
            ),
            p("After."),
        ]
    );
}

#[test]
fn raw_html_never_passes_through() {
    let markdown = "# Safe\n\
                    \n\
                    Before <script>alert(1)</script> after.\n\
                    \n\
                    An image <img src=x onerror=alert(1)> here and a \
                    <a href=\"javascript:alert(1)\" title='x > y'>link</a>.\n\
                    \n\
                    [markdown link](javascript:alert(1)) and ![pic](javascript:alert(1))\n\
                    \n\
                    <div class=\"box\" onclick=\"alert(1)\">\n\
                    <p>Boxed <b>text</b> &amp; more<!-- a comment with alert(1) --></p>\n\
                    <style>body { background: url(javascript:alert(1)) }</style>\n\
                    <iframe src=\"javascript:alert(1)\"></iframe>\n\
                    </div>\n\
                    \n\
                    <script type=\"text/javascript\">\n\
                    alert(1);\n\
                    \n\
                    document.write('<b>x</b>');\n\
                    </script>\n\
                    \n\
                    > Quoted <span onmouseover=\"alert(1)\">hover</span> and <script>alert(1)</script>\n\
                    \n\
                    - item <img src=x onerror=alert(1)/> one\n\
                    \n\
                    | a <b onclick=alert(1)>b</b> |\n\
                    |---|\n\
                    | <script>alert(1)</script>c |\n";
    let document = doc(markdown);
    assert_eq!(
        document.sections[0].blocks,
        [
            p("Before after."),
            p("An image here and a link."),
            p("markdown link and pic"),
            p("Boxed text & more"),
            quote("Quoted hover and"),
            list(false, &["item one"]),
            Block::Table {
                header: strings(&["a b"]),
                rows: vec![strings(&["c"])],
            },
        ]
    );
    assert_no_markup(&document);

    // pulldown-cmark ends a script block only at a lower-case `</script>`, so this block runs
    // on over the quote; its markup and script are still dropped, case ignored.
    let document =
        doc("Text.\n\n<SCRIPT>\nalert(1)\n</SCRIPT>\n\n> <B onclick=alert(1)>quoted</B>\n");
    assert_eq!(document.sections[0].blocks, [p("Text."), p("> quoted")]);
    assert_no_markup(&document);
}

fn assert_no_markup(document: &Document) {
    for block in document.sections.iter().flat_map(|s| &s.blocks) {
        let text = block.text().to_lowercase();
        for banned in [
            "<",
            "alert",
            "script",
            "onerror",
            "onclick",
            "javascript",
            "href",
            "style",
        ] {
            assert!(!text.contains(banned), "{banned:?} in {text:?}");
        }
    }
}

#[test]
fn html_blocks_give_their_text_on_lines() {
    let markdown = "<details>\n\
                    <summary>Hint</summary>\n\
                    Use the <em>admin</em>\n\
                    console&nbsp;&mdash; or the API &#8230; a &lt; b, 3 < 4 &bogus;\n\
                    </details>\n\
                    \n\
                    <table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>\n";
    assert_eq!(
        blocks(markdown),
        [
            p("Hint\nUse the admin console — or the API … a < b, 3 < 4 &bogus;"),
            p("a b\nc"),
        ]
    );
}

#[test]
fn front_matter_at_the_top_is_skipped() {
    let document = doc("---\ntitle: Onboarding\ntags: [a, b]\n---\n# Heading\n\nBody.\n");
    assert_eq!(
        document.sections,
        [section("Heading", "heading", vec![p("Body.")])]
    );

    // Closed by `...` too.
    assert_eq!(blocks("---\nx: 1\n...\nBody.\n"), [p("Body.")]);

    // Only at the very top: elsewhere `---` is Markdown (a thematic break, a setext heading).
    let document = doc("Intro.\n\n---\nnot: front matter\n---\n\nText.\n");
    assert_eq!(
        document.sections,
        [
            section("Introduction", "introduction", vec![p("Intro.")]),
            section("not: front matter", "not-front-matter", vec![p("Text.")]),
        ]
    );

    // A `---` followed by a blank line is a thematic break; one never closed is no front matter.
    assert_eq!(blocks("---\n\nText.\n"), [p("Text.")]);
    assert_eq!(blocks("---\nText.\n"), [p("Text.")]);

    // Lines are still counted from the top of the file.
    assert_eq!(
        errors(b"---\na: 1\n---\n\nText.\n\n```\ncode\n"),
        ["line 7: the code block opened here is never closed; end it with a line of ```"]
    );
}

#[test]
fn invalid_utf8_is_reported_with_byte_offset_and_line() {
    assert_eq!(
        errors(b"# Title\n\nCaf\xE9 au lait\n"),
        ["line 3: invalid UTF-8 at byte offset 12 (0xE9); save the file as UTF-8"]
    );
    // The offset counts the byte order mark, as a hex editor shows the file.
    assert_eq!(
        errors(b"\xEF\xBB\xBF# Title\n\nCaf\xE9\n"),
        ["line 3: invalid UTF-8 at byte offset 15 (0xE9); save the file as UTF-8"]
    );
    assert_eq!(
        errors(b"ok\r\nthen \xE2\x82"),
        [
            "line 2: invalid UTF-8 at byte offset 9: the file ends inside a character; \
             save the file as UTF-8"
        ]
    );
}

#[test]
fn binary_and_utf16_content_is_not_a_text_document() {
    assert_eq!(
        errors(b"\x00\x01\x02binary"),
        ["line 1: the file contains a NUL byte; it is not a text document"]
    );
    assert_eq!(
        errors(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ["line 3: the file contains a NUL byte; it is not a text document"]
    );
    assert_eq!(
        errors(b"\xFF\xFE#\x00 \x00T\x00"),
        ["the file is UTF-16 text; save it as UTF-8"]
    );
}

#[test]
fn empty_and_blank_files_are_rejected() {
    assert_eq!(errors(b""), ["the file is empty"]);
    assert_eq!(errors(b"\xEF\xBB\xBF"), ["the file is empty"]);
    assert_eq!(
        errors(b" \n\t\r\n\n"),
        ["the file contains only whitespace"]
    );
    let error = &parse(b"").unwrap_err()[0];
    assert_eq!((error.line, error.column), (0, None));
}

#[test]
fn lines_over_the_limit_are_rejected_by_line() {
    let at_limit = "é".repeat(MAX_LINE_CHARS);
    let over = "x".repeat(MAX_LINE_CHARS + 1);
    let markdown = format!("# Title\n{at_limit}\n{over}\n\nfine\n{over}");
    assert_eq!(
        errors(markdown.as_bytes()),
        [
            "line 3: the line is 10001 characters long; lines may have at most 10000",
            "line 6: the line is 10001 characters long; lines may have at most 10000",
        ]
    );
    assert_eq!(blocks(&at_limit), [p(&at_limit)]);
}

#[test]
fn unclosed_code_fences_are_reported_where_they_open() {
    assert_eq!(
        errors(b"# Setup\n\nRun:\n\n```sh\nmake install\n\nThen carry on.\n"),
        ["line 5: the code block opened here is never closed; end it with a line of ```"]
    );
    // Closed by the end of a quote or list item in CommonMark: as much a mistake.
    assert_eq!(
        errors(b"Intro.\n\n> ~~~~\n> code\n>\n\nAfter the quote.\n"),
        ["line 3: the code block opened here is never closed; end it with a line of ~~~~"]
    );
    assert_eq!(
        errors(b"- step\n- ```\n  code\n- next\n"),
        ["line 2: the code block opened here is never closed; end it with a line of ```"]
    );
    // A fence on the last line, and a shorter or different fence inside, close nothing.
    assert_eq!(
        errors(b"Text.\n\n````\n```\n~~~~\r\n"),
        ["line 3: the code block opened here is never closed; end it with a line of ````"]
    );
    assert_eq!(
        errors(b"Text.\n```"),
        ["line 2: the code block opened here is never closed; end it with a line of ```"]
    );
    // Closed ones, in containers too, are fine.
    assert_eq!(
        blocks("> ```\n> a\n> ```\n\n- ```\n  b\n  ```\n\n```\r\nc\r\n```"),
        [quote("a"), list(false, &["b"]), code(None, "c")]
    );
}

#[test]
fn documents_without_text_are_rejected() {
    let no_text = "the document has no text once its markup, HTML and front matter are removed";
    assert_eq!(errors(b"<!-- only a comment -->\n"), [no_text]);
    assert_eq!(errors(b"---\ntitle: Only front matter\n---\n"), [no_text]);
    assert_eq!(errors(b"***\n\n<script>alert(1)</script>\n"), [no_text]);
    assert_eq!(errors(b"```\n```\n"), [no_text]);
    assert_eq!(
        errors(b"# Only\n\n## Headings\n"),
        ["the document has headings but no text under any of them"]
    );
}

#[test]
fn every_problem_is_reported_in_line_order() {
    let over = "y".repeat(MAX_LINE_CHARS + 5);
    let markdown = format!("Text.\n\n```\n{over}\n\n> ```\n> x\n\n{over}\n");
    assert_eq!(
        errors(markdown.as_bytes()),
        [
            "line 3: the code block opened here is never closed; end it with a line of ```",
            "line 4: the line is 10005 characters long; lines may have at most 10000",
            "line 9: the line is 10005 characters long; lines may have at most 10000",
        ]
    );
}

/// xorshift64: enough randomness for inputs, without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What holds of every accepted document.
fn check_invariants(document: &Document) {
    assert!(!document.sections.is_empty());
    let mut anchors: Vec<_> = document.sections.iter().map(|s| &s.anchor).collect();
    anchors.sort();
    anchors.dedup();
    assert_eq!(anchors.len(), document.sections.len());
    for section in &document.sections {
        assert!(!section.heading.is_empty());
        for block in &section.blocks {
            assert!(!block.text().trim().is_empty(), "{block:?}");
        }
    }
}

#[test]
fn random_input_never_panics() {
    // One row of pieces per kind of syntax reads better than rustfmt's one per line.
    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        "#", "## ", "### ", "#### ", " ", "  ", "    ", "\n", "\n\n", "\r\n", "\r", "\t", "`",
        "```", "~~~", ">", "> ", "-", "- ", "* ", "1. ", "9) ", "|", "|---|", ":-:", "*", "_",
        "**", "~~", "[", "]", "(", ")", "![", "](", "<", ">", "</", "<script>", "</script>",
        "<style>", "<!--", "-->", "<div>", "<![CDATA[", "<?", "<a href=\"", "'", "\"", "=",
        "&amp;", "&#", "&#x", ";", "\\", "---", "...", "===", "é", "漢", "\u{FEFF}", "\u{A0}",
        "word", "text", "x",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let bytes: Vec<u8> = if round % 3 == 0 {
            (0..rng.below(200)).map(|_| rng.next() as u8).collect()
        } else {
            (0..rng.below(120))
                .flat_map(|_| PIECES[rng.below(PIECES.len())].bytes())
                .collect()
        };
        match parse(&bytes) {
            Ok(document) => check_invariants(&document),
            Err(errors) => assert!(!errors.is_empty()),
        }
    }
}

#[test]
fn large_and_deeply_nested_input_does_not_panic() {
    let mut big = String::from("# Big\n\n");
    for i in 0..5000 {
        big.push_str(&format!(
            "## Part {i}\n\nSome *text* with a [link](https://x.example/{i}).\n\n\
             - a\n  - b\n\n| h | i |\n|---|---|\n| 1 | 2 |\n\n```\ncode {i}\n```\n\n> quote\n\n"
        ));
    }
    let document = doc(&big);
    assert_eq!(document.sections.len(), 5000);
    check_invariants(&document);

    let deep_quote = format!("{} deep", ">".repeat(MAX_LINE_CHARS - 5));
    assert_eq!(blocks(&deep_quote), [quote("deep")]);

    let deep_quotes: String = (1..2000)
        .map(|k| format!("{} q{k}\n", ">".repeat(k)))
        .collect();
    check_invariants(&doc(&deep_quotes));

    let deep_list: String = (0..1000)
        .map(|k| format!("{}- level {k}\n", "  ".repeat(k)))
        .collect();
    let document = doc(&deep_list);
    check_invariants(&document);
    let Block::List { items, .. } = &document.sections[0].blocks[0] else {
        panic!("{document:?}");
    };
    assert_eq!(items[0], "level 0");
    assert_eq!(items[2], "  - level 2");

    for hostile in [
        "*a ".repeat(3000),
        "[".repeat(MAX_LINE_CHARS),
        "<".repeat(MAX_LINE_CHARS),
        "`".repeat(MAX_LINE_CHARS),
        "<a title='".repeat(900),
        "<script>".repeat(1000),
        "&#x".repeat(3000),
        "|a".repeat(4000) + "\n" + &"|-".repeat(4000) + "\n" + &"|b".repeat(4000),
        "<div\n".repeat(20_000),
        "- \n".repeat(20_000),
        "> ```\n".repeat(20_000),
    ] {
        if let Ok(document) = parse(hostile.as_bytes()) {
            check_invariants(&document);
        }
    }
}
