use super::*;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Helpers

fn options() -> GiftOptions {
    GiftOptions {
        default_domain: "general".into(),
    }
}

fn items(text: &str) -> Vec<Item> {
    parse(text.as_bytes(), &options()).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn item(text: &str) -> Item {
    let mut list = items(text);
    assert_eq!(list.len(), 1, "{list:#?}");
    list.remove(0)
}

/// The rejection messages as displayed: `line N: ...`, or the bare message for the whole file.
fn refused(bytes: &[u8]) -> Vec<String> {
    match parse(bytes, &options()) {
        Ok(items) => panic!("the file should be refused, got {items:#?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn refused_text(text: &str) -> Vec<String> {
    refused(text.as_bytes())
}

fn fixture(name: &str) -> Option<Vec<u8>> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/gift"
    ));
    if !dir.is_dir() {
        eprintln!("skipped: ../shared/fixtures not found");
        return None;
    }
    let path = dir.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn fixture_text(name: &str) -> Option<String> {
    fixture(name).map(|bytes| String::from_utf8(bytes).expect("a UTF-8 fixture"))
}

fn fixture_items(name: &str) -> Option<Vec<Item>> {
    let bytes = fixture(name)?;
    Some(parse(&bytes, &options()).unwrap_or_else(|e| panic!("{name}: {e:#?}")))
}

fn fixture_refused(name: &str) -> Option<Vec<String>> {
    fixture(name).map(|bytes| refused(&bytes))
}

/// Choices with ids `a`, `b`, ... in order.
fn choices(texts: &[&str]) -> Vec<Choice> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Choice {
            id: choice_id(i),
            text: (*text).into(),
        })
        .collect()
}

fn single(texts: &[&str], correct: &str) -> ItemBody {
    ItemBody::SingleChoice {
        choices: choices(texts),
        correct: correct.into(),
    }
}

fn exact(texts: &[&str]) -> ItemBody {
    ItemBody::ShortText {
        accepted: texts
            .iter()
            .map(|t| TextAnswer::Exact((*t).into()))
            .collect(),
    }
}

fn numeric(item: &Item) -> (f64, f64) {
    match item.body {
        ItemBody::Numeric { answer, tolerance } => (answer, tolerance),
        ref other => panic!("not numeric: {other:?}"),
    }
}

fn assert_numeric(item: &Item, answer: f64, tolerance: f64) {
    let (a, t) = numeric(item);
    assert!(
        (a - answer).abs() < 1e-9 && (t - tolerance).abs() < 1e-9,
        "{}: expected {answer} ± {tolerance}, got {a} ± {t}",
        item.stem
    );
}

fn kinds(items: &[Item]) -> Vec<&'static str> {
    items.iter().map(|i| i.body.kind()).collect()
}

fn ids(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.id.as_str()).collect()
}

fn stems(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.stem.as_str()).collect()
}

fn matching_pairs(item: &Item) -> Vec<(String, String)> {
    match &item.body {
        ItemBody::Matching {
            prompts,
            targets,
            pairs,
        } => pairs
            .iter()
            .map(|(p, t)| {
                let text = |list: &[Choice], id: &str| {
                    list.iter().find(|c| c.id == id).unwrap().text.clone()
                };
                (text(prompts, p), text(targets, t))
            })
            .collect(),
        other => panic!("not matching: {other:?}"),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, t)| ((*p).into(), (*t).into()))
        .collect()
}

const ESSAY_LINE: &str = "essay questions need a human reviewer and cannot be scored automatically; use a practical assessment instead";

// ---------------------------------------------------------------------------------------------
// Every kind GIFT can express

#[test]
fn each_kind_of_question_becomes_its_item() {
    let list = items(
        "The sun rises in the east.{T}\n\
         \n\
         Which port does HTTPS use? {=443 ~80 ~22}\n\
         \n\
         Which are block ciphers? {~%50%AES ~%50%Twofish ~%-100%RC4}\n\
         \n\
         Name the principle: grant only what is needed. {=least privilege =minimal privilege}\n\
         \n\
         How many bits in a byte? {#8}\n\
         \n\
         Match the layers. {=TCP -> transport =IP -> network}\n",
    );
    assert_eq!(
        kinds(&list),
        [
            "true_false",
            "single_choice",
            "multiple_response",
            "short_text",
            "numeric",
            "matching"
        ]
    );
    assert_eq!(list[0].body, ItemBody::TrueFalse { correct: true });
    assert_eq!(list[1].body, single(&["443", "80", "22"], "a"));
    assert_eq!(
        list[2].body,
        ItemBody::MultipleResponse {
            choices: choices(&["AES", "Twofish", "RC4"]),
            correct: vec!["a".into(), "b".into()],
        }
    );
    assert_eq!(
        list[3].body,
        exact(&["least privilege", "minimal privilege"])
    );
    assert_numeric(&list[4], 8.0, 0.0);
    assert_eq!(
        matching_pairs(&list[5]),
        pairs(&[("TCP", "transport"), ("IP", "network")])
    );
    for (n, item) in list.iter().enumerate() {
        assert_eq!(item.id, format!("gift-{}", n + 1));
        assert_eq!(item.domain, "general");
        assert_eq!(item.status, ItemStatus::Draft);
        assert_eq!(item.version, 1);
        assert_eq!(item.artifact, None);
        assert_eq!(item.rationale, "");
    }
    assert_eq!(list[1].stem, "Which port does HTTPS use?");
}

#[test]
fn true_false_takes_every_spelling_and_feedback_for_the_answer_given() {
    let list = items("A {T}\n\nB {TRUE}\n\nC {F}\n\nD {FALSE#No: it is.#Right.}\n");
    let keys: Vec<_> = list.iter().map(|i| i.body.clone()).collect();
    assert_eq!(
        keys,
        [true, true, false, false].map(|correct| ItemBody::TrueFalse { correct })
    );
    // The first feedback is for the wrong answer, here `true`.
    assert_eq!(list[3].rationale, "\"true\": No: it is.\n\"false\": Right.");
}

#[test]
fn partial_credit_counts_as_wrong_and_weights_decide_single_or_multiple() {
    // One fully right answer: single choice, the half-right one is wrong.
    let body = item("Q {~wrong ~%50%half =full}").body;
    assert_eq!(body, single(&["wrong", "half", "full"], "c"));
    // `~%100%` is as good as `=`.
    let body = item("Q {~%100%full ~%50%half ~wrong}").body;
    assert_eq!(body, single(&["full", "half", "wrong"], "a"));
    // A single positive weight is the key even below 100%.
    let body = item("Q {~%50%half ~wrong}").body;
    assert_eq!(body, single(&["half", "wrong"], "a"));
    // Thirds written as decimals add up to 100 closely enough.
    let body = item("Q {~%33.3%a ~%33.3%b ~%33.4%c ~%-100%d}").body;
    assert_eq!(
        body,
        ItemBody::MultipleResponse {
            choices: choices(&["a", "b", "c", "d"]),
            correct: vec!["a".into(), "b".into(), "c".into()],
        }
    );
}

#[test]
fn short_answers_accept_only_fully_right_text_and_stars_make_patterns() {
    let item = item(
        "What should you do with leaked keys? {\n\
         =rotate * keys#Any keys.\n\
         =%50%delete them#Half right.\n\
         =%0%*#Wrong.\n\
         }",
    );
    assert_eq!(
        item.body,
        ItemBody::ShortText {
            accepted: vec![TextAnswer::Pattern("rotate * keys".into())]
        }
    );
    assert_eq!(
        item.rationale,
        "\"rotate * keys\": Any keys.\n\"delete them\": Half right.\n\"*\": Wrong."
    );
    // A lone answer needs no `=`.
    assert_eq!(
        self::item("Write one in words. {One}").body,
        exact(&["One"])
    );
}

#[test]
fn numeric_answers_take_tolerance_ranges_and_the_fully_right_answer() {
    let list = items(
        "A {#1.25:0.01}\n\nB {#1..5}\n\nC {#-2.5e2}\n\n\
         D {#\n=%50%8:1#Close.\n=%0%*#Far off.\n=9#Yes.\n~#Not even close.}\n",
    );
    assert_numeric(&list[0], 1.25, 0.01);
    assert_numeric(&list[1], 3.0, 2.0);
    assert_numeric(&list[2], -250.0, 0.0);
    assert_numeric(&list[3], 9.0, 0.0);
    assert_eq!(
        list[3].rationale,
        "\"8:1\": Close.\n\"*\": Far off.\n\"9\": Yes.\nany other answer: Not even close."
    );
}

#[test]
fn matching_targets_are_shared_by_text_and_a_lone_answer_is_a_distractor() {
    let item = item("Which transport?{\n=HTTP -> TCP\n=SMTP -> TCP\n=DNS -> UDP\n= -> SCTP\n}");
    assert_eq!(
        item.body,
        ItemBody::Matching {
            prompts: vec![
                Choice {
                    id: "p1".into(),
                    text: "HTTP".into()
                },
                Choice {
                    id: "p2".into(),
                    text: "SMTP".into()
                },
                Choice {
                    id: "p3".into(),
                    text: "DNS".into()
                },
            ],
            targets: vec![
                Choice {
                    id: "t1".into(),
                    text: "TCP".into()
                },
                Choice {
                    id: "t2".into(),
                    text: "UDP".into()
                },
                Choice {
                    id: "t3".into(),
                    text: "SCTP".into()
                },
            ],
            pairs: vec![
                ("p1".into(), "t1".into()),
                ("p2".into(), "t1".into()),
                ("p3".into(), "t2".into()),
            ],
        }
    );
}

#[test]
fn more_than_26_choices_get_two_letter_ids() {
    let answers: String = (1..=28).map(|n| format!(" ~option {n}")).collect();
    let item = item(&format!("Pick the last. {{{answers} =the last}}"));
    let ItemBody::SingleChoice { choices, correct } = item.body else {
        panic!("single choice expected");
    };
    let ids: Vec<_> = choices.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(&ids[24..], ["y", "z", "aa", "ab", "ac"]);
    assert_eq!(correct, "ac");
}

// ---------------------------------------------------------------------------------------------
// Text: stems, formats, escapes

#[test]
fn a_block_inside_the_sentence_leaves_a_blank() {
    let list = items(
        "Grant is {~buried =entombed ~living} in Grant's tomb.\n\n\
         {=Asia} is the largest continent.\n\n\
         [html]<p>TLS <b>{=1.3 ~1.1}</b> removed RSA key exchange.</p>\n",
    );
    assert_eq!(
        stems(&list),
        [
            "Grant is _____ in Grant's tomb.",
            "_____ is the largest continent.",
            "TLS _____ removed RSA key exchange."
        ]
    );
}

#[test]
fn html_becomes_plain_text() {
    let item = item(
        "[html]<p>Fish &amp; chips &lt;cost&gt; &quot;3&quot; &#39;each&#39;&nbsp;now</p>\
         <script>alert(1)</script><style>p \\{ color: red \\}</style><!-- hidden -->\
         <p>See <a href=\"https://example.com/a?b=1&amp;c=2\">the docs</a> and \
         <a href=\"https://example.com\">https://example.com</a>.<br>a &lt; b, x<3, &bogus;</p> {T}",
    );
    assert_eq!(
        item.stem,
        "Fish & chips <cost> \"3\" 'each' now\n\n\
         See the docs (https://example.com/a?b=1&c=2) and https://example.com.\n\
         a < b, x<3, &bogus;"
    );
}

#[test]
fn each_format_marker_is_honoured() {
    let list = items(
        "Default keeps\nline breaks and <b>drops tags</b>. {T}\n\n\
         [moodle]Moodle <i>too</i>. {T}\n\n\
         [html]HTML joins\nlines. {T}\n\n\
         [plain]Plain keeps <b>tags</b> &amp; entities. {T}\n\n\
         [markdown]Markdown **renders**\nto `text`. {T}\n",
    );
    assert_eq!(
        stems(&list),
        [
            "Default keeps\nline breaks and drops tags.",
            "Moodle too.",
            "HTML joins lines.",
            "Plain keeps <b>tags</b> &amp; entities.",
            "Markdown renders to text."
        ]
    );
}

#[test]
fn answers_and_feedback_inherit_the_question_format_unless_they_name_their_own() {
    let item = item(
        "[html]<p>Pick</p>{\n\
         =<b>one</b>#<i>yes</i>\n\
         ~[plain]<b>two</b>#[markdown]**no**\n\
         }",
    );
    assert_eq!(item.body, single(&["one", "<b>two</b>"], "a"));
    assert_eq!(item.rationale, "\"one\": yes\n\"<b>two</b>\": no");
}

#[test]
fn gift_escapes_are_literal_characters() {
    let item = item(
        "Which is not special\\: \\{ \\} \\~ \\= \\# \\\\ ?\\nSecond line. {\n\
         =\\\\ backslash#Right\\: \\# is special.\n\
         ~\\~ tilde\n\
         }",
    );
    assert_eq!(
        item.stem,
        "Which is not special: { } ~ = # \\ ?\nSecond line."
    );
    assert_eq!(item.body, single(&["\\ backslash", "~ tilde"], "a"));
    assert_eq!(item.rationale, "\"\\ backslash\": Right: # is special.");
}

#[test]
fn general_feedback_comes_first_in_the_rationale() {
    let item = item(
        "TLS 1.3 removed static RSA.{TRUE#It did.#Correct.\n####Forward secrecy is mandatory.}",
    );
    assert_eq!(
        item.rationale,
        "Forward secrecy is mandatory.\n\"false\": It did.\n\"true\": Correct."
    );
}

#[test]
fn windows_line_endings_a_bom_tabs_lone_crs_and_comments_are_handled() {
    let text = "\u{feff}// header\r\n\t::Ports::Which port\r\n\tdoes HTTPS use?{\r\n\t// a comment inside the block\r\n\t=443\r\n\t~80\r\n}\r\n  \t \r\nLone CR {T}\rstill the same question.\r";
    let list = items(text);
    assert_eq!(ids(&list), ["ports", "gift-2"]);
    assert_eq!(list[0].stem, "Which port\ndoes HTTPS use?");
    assert_eq!(list[0].body, single(&["443", "80"], "a"));
    assert_eq!(list[1].stem, "Lone CR _____\nstill the same question.");
}

#[test]
fn descriptions_are_skipped_and_not_counted() {
    let list =
        items("::Intro::Read each question carefully.\n\nFirst? {T}\n\nAn aside.\n\nSecond? {F}\n");
    assert_eq!(ids(&list), ["gift-1", "gift-2"]);
}

// ---------------------------------------------------------------------------------------------
// Ids and domains

#[test]
fn ids_come_from_the_id_comment_then_the_title_then_the_position() {
    let long_title = "x".repeat(70);
    let list = items(&format!(
        "// [id:TLS_Handshake 1]\n// [tag:security]\n::Ignored title::Q {{T}}\n\n\
         ::Création d'instance — Étape 2::Q {{T}}\n\n\
         Q {{T}}\n\n\
         ::!!!::Q {{T}}\n\n\
         ::{long_title}::Q {{T}}\n"
    ));
    assert_eq!(
        ids(&list),
        [
            "tls-handshake-1",
            "creation-d-instance-etape-2",
            "gift-3",
            "gift-4",
            &"x".repeat(64)
        ]
    );
}

#[test]
fn categories_set_the_domain_of_the_questions_after_them() {
    let list = items(
        "First {T}\n\n\
         // question: 0  name: switch category\n\
         $CATEGORY: $course$/top/Security review\n\n\
         Second {T}\n\n\
         $CATEGORY: $course$/top/Networking//Routing\n\
         Third, in the same block {T}\n\n\
         $CATEGORY: $course$/top\n\n\
         Fourth {T}\n",
    );
    let domains: Vec<_> = list.iter().map(|i| i.domain.as_str()).collect();
    assert_eq!(
        domains,
        [
            "general",
            "security-review",
            "networking-routing",
            "general"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed input: every problem, at its line

#[test]
fn an_unclosed_answer_block_is_reported_where_the_question_ends() {
    assert_eq!(
        refused_text("// ports\nWhich port does HTTPS use? {\n=443\n~80\n\nWhat is 2 + 2? {#4}\n"),
        ["line 4: the answer block opened at line 2 is never closed; expected `}`"]
    );
}

#[test]
fn an_unknown_weight_is_refused() {
    assert_eq!(
        refused_text("Which port?\n{=443 ~%abc%80}"),
        [
            "line 2: the answer weight `%abc%` is not a percentage; expected a number from -100 to 100, e.g. `~%50%` or `~%-25%`"
        ]
    );
    assert_eq!(
        refused_text("Which port? {=443 ~%150%80}"),
        [
            "line 1: the answer weight `%150%` is not a percentage; expected a number from -100 to 100, e.g. `~%50%` or `~%-25%`"
        ]
    );
}

#[test]
fn a_numeric_answer_must_be_a_number() {
    assert_eq!(
        refused_text("// pi\n\nPi to two places?\n{#abc}"),
        ["line 4: numeric answer `abc` is not a number; expected `{#3.14:0.01}` or `{#1..5}`"]
    );
    assert_eq!(
        refused_text("Pi? {#3,14}\n\nInfinity? {#inf}"),
        [
            "line 1: numeric answer `3,14` is not a number; expected `{#3.14:0.01}` or `{#1..5}`",
            "line 3: numeric answer `inf` is not a number; expected `{#3.14:0.01}` or `{#1..5}`"
        ]
    );
}

#[test]
fn a_numeric_range_must_run_upwards_and_a_tolerance_be_positive() {
    assert_eq!(
        refused_text("A number from 1 to 5? {#5..1}"),
        [
            "line 1: numeric range `5..1` runs from 5 down to 1; expected the smaller number first, e.g. `{#1..5}`"
        ]
    );
    assert_eq!(
        refused_text("Three? {#3:-1}"),
        ["line 1: numeric answer `3:-1` has a negative tolerance; expected e.g. `{#3.14:0.01}`"]
    );
}

#[test]
fn a_numeric_question_has_one_fully_right_answer() {
    assert_eq!(
        refused_text("Either? {#=1 =2}"),
        [
            "line 1: 2 numeric answers are fully right; an item has one answer and tolerance, so give the others a partial weight such as `=%50%`"
        ]
    );
    assert_eq!(
        refused_text("None? {#=%50%1}"),
        [
            "line 1: no numeric answer is fully right; expected e.g. `{#3.14:0.01}`, `{#1..5}` or `{#=9 =%50%8}`"
        ]
    );
    assert_eq!(
        refused_text("Other? {#3:2 ~5}"),
        [
            "line 1: after `~` a numeric question takes only the feedback for any other answer; expected e.g. `{#3:2 ~#Not between 1 and 5}`"
        ]
    );
}

#[test]
fn a_matching_question_needs_two_pairs_each_with_an_arrow() {
    assert_eq!(
        refused_text("Match the protocol. {=TCP -> reliable = -> connectionless}"),
        [
            "line 1: a matching question needs at least two pairs, found 1; expected e.g. `{=TCP -> reliable =UDP -> connectionless}`"
        ]
    );
    assert_eq!(
        refused_text("Match. {\n=TCP -> reliable\n=UDP connectionless\n=SCTP -> \n}"),
        [
            "line 3: the matching pair `UDP connectionless` has no `->`; expected `=prompt -> answer`",
            "line 4: the matching pair `SCTP` has no answer after `->`"
        ]
    );
}

#[test]
fn a_multiple_choice_question_needs_a_right_answer() {
    assert_eq!(
        refused_text("Which port?\n{~80 ~%-50%22}"),
        [
            "line 2: none of the answers is right; mark the right one with `=`, or give each right answer of a multiple-response question its share, e.g. `~%50%`"
        ]
    );
}

#[test]
fn a_single_choice_has_one_fully_right_answer_and_shares_add_up() {
    assert_eq!(
        refused_text("Which? {=a =b ~c}"),
        [
            "line 1: 2 answers are fully right (`a`, `b`); a single-choice question has one `=` answer, and a multiple-response question gives each right answer its share, e.g. `~%50%`"
        ]
    );
    assert_eq!(
        refused_text("Which? {~%50%a ~%60%b ~c}"),
        [
            "line 1: the right answers' weights add up to 110%; for a multiple-response question they must add up to 100%"
        ]
    );
}

#[test]
fn choices_must_be_two_or_more_distinct_and_not_empty() {
    assert_eq!(
        refused_text("One? {~only}"),
        [
            "line 1: a multiple-choice question needs at least two answers, found 1; expected e.g. `{=right ~wrong}`"
        ]
    );
    assert_eq!(
        refused_text("Same? {=a ~a}\n\nEmpty? {=a\n~\n}"),
        [
            "line 1: the answer `a` appears twice; each choice must differ",
            "line 4: an empty answer; expected its text after `~`"
        ]
    );
    assert_eq!(
        refused_text("Which port? {maybe ~80 =443}"),
        [
            "line 1: `maybe` comes before the first answer; start every answer with `=` (right) or `~` (wrong)"
        ]
    );
}

#[test]
fn duplicate_ids_name_both_lines() {
    assert_eq!(
        refused_text("// [id:tls-1]\nFirst? {T}\n\n// [id:TLS 1]\nSecond? {F}\n"),
        [
            "line 4: the id `tls-1` is already used by the question at line 1; ids must be unique in a file: give one of them another `::title::` or a `// [id:...]` comment"
        ]
    );
    assert_eq!(
        refused_text("::Ports::A {T}\n\n::ports!::B {T}\n"),
        [
            "line 3: the id `ports` is already used by the question at line 1; ids must be unique in a file: give one of them another `::title::` or a `// [id:...]` comment"
        ]
    );
    assert_eq!(
        refused_text("// [id:abc\nQ {T}\n\n// [id:***]\nQ {T}\n"),
        [
            "line 1: the `[id:` is never closed; expected `// [id:my-id]`",
            "line 4: the id `***` has no letters or digits; expected e.g. `// [id:tls-handshake-1]`"
        ]
    );
}

#[test]
fn an_empty_file_is_refused() {
    assert_eq!(refused(b""), ["the file is empty"]);
    assert_eq!(refused(b" \r\n\t\n"), ["the file contains only whitespace"]);
    assert_eq!(
        refused(b"\xef\xbb\xbf"),
        ["the file contains only whitespace"]
    );
    assert_eq!(
        refused_text(
            "// only a comment\n\n::Intro::Read carefully.\n\n$CATEGORY: $course$/top/Security\n"
        ),
        [
            "the file holds no questions, only comments, categories or descriptions; expected a question with an answer block, e.g. `What is 2 + 2? {#4}`"
        ]
    );
}

#[test]
fn text_that_is_not_utf8_is_refused_with_its_byte_offset() {
    assert_eq!(
        refused(b"Caf\xe9? {T}\n"),
        ["the file is not UTF-8 text (invalid byte 0xe9 at byte offset 3); save it as UTF-8"]
    );
    assert_eq!(
        refused(b"\xef\xbb\xbfQ {T}\n\xff"),
        ["the file is not UTF-8 text (invalid byte 0xff at byte offset 9); save it as UTF-8"]
    );
    assert_eq!(
        refused(b"Q {T}\xc3"),
        [
            "the file is not UTF-8 text (it ends inside a multi-byte character at byte offset 5); save it as UTF-8"
        ]
    );
    assert_eq!(
        refused(b"\xff\xfeQ\x00"),
        ["the file is UTF-16 text; save it as UTF-8"]
    );
}

#[test]
fn a_binary_file_is_refused() {
    assert_eq!(
        refused(b"Q? {T}\n\x00\x01\x02"),
        ["the file is binary, not GIFT text: it has a NUL byte at byte offset 7"]
    );
    assert_eq!(
        refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ["the file is binary, not GIFT text: it has a NUL byte at byte offset 8"]
    );
}

#[test]
fn a_line_over_64_kib_is_refused() {
    let huge = format!("Q {{T}}\n\n{} {{T}}\n", "a".repeat(70_000));
    assert_eq!(
        refused_text(&huge),
        ["line 3: the line is 70004 bytes long; a line may be at most 64 KiB (65536 bytes)"]
    );
    // Exactly 64 KiB is still a line.
    let longest = format!("{} {{T}}", "a".repeat(MAX_LINE_BYTES - 4));
    assert_eq!(longest.len(), MAX_LINE_BYTES);
    assert_eq!(item(&longest).stem.len(), MAX_LINE_BYTES - 4);
}

#[test]
fn a_stray_closing_brace_is_refused() {
    let message =
        "a `}` closes no answer block; write `\\}` for a literal brace, or open the block with `{`";
    assert_eq!(
        refused_text("Which port? =443 }\n\nQ {T}\n\nR {T} }\n\nS }{T}"),
        [
            format!("line 1: {message}"),
            format!("line 5: {message}"),
            format!("line 7: {message}")
        ]
    );
}

#[test]
fn braces_make_one_answer_block_per_question() {
    assert_eq!(
        refused_text("Q? {=a\n{~b}"),
        [
            "line 2: a `{` inside the answer block opened at line 1; close that block with `}` first, or write `\\{` for a literal brace"
        ]
    );
    assert_eq!(
        refused_text("Q? {T}\nAnd? {F}"),
        [
            "line 2: a second answer block, after the one closed at line 1; a question has one: separate questions with a blank line"
        ]
    );
}

#[test]
fn an_answer_block_needs_question_text() {
    assert_eq!(
        refused_text("{=443 ~80}\n\n::Title only::{T}\n\n[html]<p> </p>{T}"),
        [
            "line 1: the answer block has no question text; expected the question before it, e.g. `Which port does HTTPS use? {=443 ~80}`",
            "line 3: the answer block has no question text; expected the question before it, e.g. `Which port does HTTPS use? {=443 ~80}`",
            "line 5: the answer block has no question text; expected the question before it, e.g. `Which port does HTTPS use? {=443 ~80}`"
        ]
    );
}

#[test]
fn true_false_with_trailing_words_is_refused() {
    assert_eq!(
        refused_text("The sky is blue.\n{TRUE maybe}"),
        [
            "line 2: the true/false answer `TRUE maybe` has more after `TRUE`; expected `{TRUE}` or `{TRUE#feedback}`, or `{=TRUE maybe}` for a short answer"
        ]
    );
    // Written with `=` it is a short answer, as Moodle reads it.
    assert_eq!(item("Q {=TRUE maybe}").body, exact(&["TRUE maybe"]));
}

#[test]
fn an_essay_is_refused() {
    assert_eq!(
        refused_text("Q {T}\n\n::Essay::Describe your last incident.\n{\n}"),
        [format!("line 4: {ESSAY_LINE}")]
    );
}

#[test]
fn an_unclosed_title_is_refused() {
    assert_eq!(
        refused_text("::Unclosed title\nQuestion? {T}"),
        [
            "line 1: the title opened with `::` is never closed; expected `::Title::` before the question text"
        ]
    );
}

#[test]
fn a_short_answer_must_not_accept_anything() {
    assert_eq!(
        refused_text("Anything? {=*}\n\nNothing right? {=%50%half =%0%*}"),
        [
            "line 1: the short answer `*` would accept any text; expected the words of a right answer, where `*` stands for any text, e.g. `=rotate * keys`",
            "line 3: none of the short answers is fully right; give at least one without a weight, e.g. `{=least privilege}`"
        ]
    );
}

#[test]
fn images_are_refused_in_questions_and_choices() {
    assert_eq!(
        refused_text(
            "[html]<p>What does this show?</p><img src=\"@@PLUGINFILE@@/x.png\"> {T}\n\n\
             [markdown]Which?{\n=![a cat](cat.png)\n~a dog\n}"
        ),
        [
            "line 1: the question text shows an image, which a GIFT file does not carry; describe it in words",
            "line 4: the answer `a cat` shows an image, which a GIFT file does not carry; describe it in words"
        ]
    );
}

#[test]
fn a_category_needs_letters_or_digits() {
    assert_eq!(
        refused_text("$CATEGORY: $course$/top/***\n\nQ {T}"),
        [
            "line 1: the category `***` has no letters or digits to make a domain of; expected e.g. `$CATEGORY: $course$/top/Security review`"
        ]
    );
}

#[test]
fn every_problem_is_reported_in_line_order() {
    assert_eq!(
        refused_text(
            "Pi? {#pi}\n\nGood {T}\n\n{=a ~b}\n\nEssay {}\n\nMatch {=a -> b}\n\nUnclosed {T\n"
        ),
        [
            "line 1: numeric answer `pi` is not a number; expected `{#3.14:0.01}` or `{#1..5}`".to_owned(),
            "line 5: the answer block has no question text; expected the question before it, e.g. `Which port does HTTPS use? {=443 ~80}`".to_owned(),
            format!("line 7: {ESSAY_LINE}"),
            "line 9: a matching question needs at least two pairs, found 1; expected e.g. `{=TCP -> reliable =UDP -> connectionless}`".to_owned(),
            "line 11: the answer block opened at line 11 is never closed; expected `}`".to_owned(),
        ]
    );
}

#[test]
fn errors_past_a_hundred_are_counted_not_listed() {
    let file = "Essay {}\n\n".repeat(150);
    let errors = refused_text(&file);
    assert_eq!(errors.len(), 101);
    assert_eq!(errors[99], format!("line 199: {ESSAY_LINE}"));
    assert_eq!(errors[100], "50 more problems are not listed");
}

// ---------------------------------------------------------------------------------------------
// Real-world fixtures (../shared/fixtures/gift; see SOURCES.md there)

#[test]
fn fixture_true_false_with_two_feedbacks() {
    let Some(list) = fixture_items("TFTwoFeedback.gift") else {
        return;
    };
    assert_eq!(kinds(&list), ["true_false"; 3]);
    assert_eq!(stems(&list), ["Grant is buried in Grant's tomb."; 3]);
    let keys: Vec<_> = list.iter().map(|i| i.body.clone()).collect();
    assert_eq!(
        keys,
        [false, true, true].map(|correct| ItemBody::TrueFalse { correct })
    );
    // Moodle shows the first feedback for the wrong answer, the second for the right one.
    let rationales: Vec<_> = list.iter().map(|i| i.rationale.as_str()).collect();
    assert_eq!(
        rationales,
        [
            "\"true\": feedback for true\n\"false\": feedback for false",
            "\"false\": feedback for true",
            "\"true\": feedback for false"
        ]
    );
}

#[test]
fn fixture_categories_name_the_domain() {
    for (name, domain) in [
        ("category1.gift", "default-for-ling-373-2194-b"),
        ("categorySpecialCharacter.gift", "default-for-unit-1-topic"),
    ] {
        let Some(text) = fixture_text(name) else {
            return;
        };
        // A category alone is no question.
        assert_eq!(
            refused_text(&text),
            [
                "the file holds no questions, only comments, categories or descriptions; expected a question with an answer block, e.g. `What is 2 + 2? {#4}`"
            ]
        );
        let with_question = format!("{text}\nQ {{T}}\n");
        assert_eq!(item(&with_question).domain, domain, "{name}");
    }
}

#[test]
fn fixture_descriptions_are_skipped_with_their_title_and_id() {
    for name in [
        "descriptionTitleEscapedColon.gift",
        "descriptionWithID.gift",
    ] {
        let Some(list) = fixture_items(name) else {
            return;
        };
        assert_eq!(list.len(), 1, "{name}");
        assert_eq!(list[0].id, "gift-1", "the id comment was the description's");
        assert_eq!(list[0].stem, "True or false?");
        assert_eq!(list[0].body, ItemBody::TrueFalse { correct: true });
    }
}

#[test]
fn fixture_escape_all() {
    let Some(list) = fixture_items("escapeAll.gift") else {
        return;
    };
    assert_eq!(list.len(), 1);
    let item = &list[0];
    assert_eq!(item.id, "gift-control-characters");
    assert_eq!(
        item.stem,
        "Which of the following is NOT a control character for the GIFT import format?"
    );
    assert_eq!(
        item.body,
        single(&["~", "=", "#", "{", "}", ":", "\\"], "g")
    );
    let rationale: Vec<_> = item.rationale.lines().collect();
    assert_eq!(rationale[0], "\"~\": ~ is a control character.");
    assert_eq!(
        &rationale[6..],
        [
            "\"\\\": Correct! \\ (backslash) is not a control character. BUT,",
            "it is used to escape the control characters."
        ]
    );
}

#[test]
fn fixture_essays_are_refused_at_their_line() {
    for (name, line) in [
        ("essay1.gift", 1),
        ("newlineAndLaTeX.gift", 1),
        ("tag_id_and_two_tags.gift", 3),
        ("totara_moodle_backslash.gift", 4),
    ] {
        let Some(errors) = fixture_refused(name) else {
            return;
        };
        assert_eq!(errors, [format!("line {line}: {ESSAY_LINE}")], "{name}");
    }
}

#[test]
fn fixture_essays_made_scorable_show_escapes_and_ids() {
    let Some(latex) = fixture_text("newlineAndLaTeX.gift") else {
        return;
    };
    // `\n` is a line break, which HTML folds into a space; `\\` is one backslash.
    assert_eq!(
        item(&latex.replace("{}", "{T}")).stem,
        "Blah blah $ 1 \\neq 0 $"
    );
    let Some(backslash) = fixture_text("totara_moodle_backslash.gift") else {
        return;
    };
    let item_ = item(&backslash.replace("{}", "{T}"));
    assert_eq!(item_.stem, "A \\\\ B \\\\\\\\ C");
    assert_eq!(item_.id, "double-backslash");
    let Some(tagged) = fixture_text("tag_id_and_two_tags.gift") else {
        return;
    };
    assert_eq!(item(&tagged.replace("{}", "{T}")).id, "393");
}

#[test]
fn fixture_format_examples() {
    let Some(list) = fixture_items("formatExamples.gift") else {
        return;
    };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].stem, "The sun rises in which direction?");
    assert_eq!(list[0].body, single(&["The east.", "The west."], "a"));
    assert_eq!(
        list[0].rationale,
        "\"The east.\": Awesome!\n\"The west.\": What planet did you grow up on?"
    );
}

#[test]
fn fixture_gift_format_php_examples() {
    let Some(list) = fixture_items("giftFormatPhpExamples.gift") else {
        return;
    };
    assert_eq!(
        kinds(&list),
        [
            "single_choice",
            "single_choice",
            "true_false",
            "short_text",
            "numeric",
            "matching",
            "single_choice",
            "single_choice",
            "short_text",
            "numeric"
        ]
    );
    assert_eq!(
        ids(&list),
        [
            "gift-1",
            "gift-2",
            "gift-3",
            "gift-4",
            "gift-5",
            "gift-6",
            "grant-s-tomb",
            "gift-8",
            "jesus-hometown-short-answer-ex",
            "numerical-example"
        ]
    );
    assert_eq!(list[0].body, single(&["Grant", "Jefferson", "no one"], "c"));
    assert_eq!(list[1].stem, "Grant is _____ in Grant's tomb.");
    assert_eq!(list[2].body, ItemBody::TrueFalse { correct: false });
    assert_eq!(list[3].body, exact(&["no one", "nobody"]));
    assert_numeric(&list[4], 1822.0, 5.0);
    assert_eq!(
        list[5].stem,
        "Match the following countries with their corresponding\ncapitals."
    );
    assert_eq!(
        matching_pairs(&list[5]),
        pairs(&[("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo")])
    );
    assert_eq!(
        list[6].rationale,
        "\"buried\": No one is buried there.\n\"entombed\": Right answer!\n\"living\": We hope not!"
    );
    // The half-credit answer is wrong: items are scored right or wrong.
    assert_eq!(
        list[7].body,
        single(
            &["wrong answer", "half credit answer", "full credit answer"],
            "c"
        )
    );
    assert_eq!(list[8].stem, "Jesus Christ was from _____.");
    assert_eq!(list[8].body, exact(&["Nazareth"]));
    assert_numeric(&list[9], 1822.0, 0.0);
    assert_eq!(
        list[9].rationale,
        "\"1822:0\": Correct! 100% credit\n\"1822:2\": He was born in 1822.\nYou get 50% credit for being close."
    );
}

#[test]
fn fixture_matching() {
    let Some(list) = fixture_items("matching1.gift") else {
        return;
    };
    assert_eq!(kinds(&list), ["matching", "matching"]);
    assert_eq!(stems(&list)[0], "Matching Question.");
    assert_eq!(
        matching_pairs(&list[0]),
        pairs(&[
            ("subquestion1", "subanswer1"),
            ("subquestion2", "subanswer2"),
            ("subquestion3", "subanswer3")
        ])
    );
    assert_eq!(
        matching_pairs(&list[1]),
        pairs(&[
            ("Canada", "Ottawa"),
            ("Italy", "Rome"),
            ("Japan", "Tokyo"),
            ("India", "New Delhi")
        ])
    );
}

#[test]
fn fixture_multiple_choice() {
    let Some(list) = fixture_items("mc5.gift") else {
        return;
    };
    assert_eq!(kinds(&list), ["single_choice"; 4]);
    assert_eq!(
        stems(&list),
        [
            "Who's buried in Grant's tomb?",
            "Grant is _____ in Grant's tomb.",
            "The American holiday of Thanksgiving is celebrated on the _____ Thursday of November.",
            "Japanese characters originally came from what country?"
        ]
    );
    assert_eq!(list[2].body, single(&["second", "third", "fourth"], "c"));
    assert_eq!(
        list[3].body,
        single(&["India", "China", "Korea", "Egypt"], "b")
    );
}

#[test]
fn fixture_html_with_comments_and_escaped_markup() {
    let Some(list) = fixture_items("mcHTMLComment.gift") else {
        return;
    };
    assert_eq!(list.len(), 1);
    let item = &list[0];
    assert_eq!(item.id, "ee-mod-05-t39-p079");
    assert_eq!(
        item.stem,
        "¿En qué supuestos podría el Fiscal autorizar a la Policía Judicial la práctica de una diligencia de entrada y registro?"
    );
    let ItemBody::SingleChoice { choices, correct } = &item.body else {
        panic!("single choice expected");
    };
    assert_eq!(choices.len(), 3);
    assert_eq!(choices[1].text, "Cuando se trate de delitos de terrorismo.");
    assert_eq!(correct, "c");
    assert!(
        item.rationale
            .starts_with("Artículo 5 Estatuto Orgánico del Ministerio Fiscal:\n\nDos. Igualmente,"),
        "{}",
        item.rationale
    );
    assert!(item.rationale.contains(
        "según la Ley de Enjuiciamiento Criminal (http://www.formacioncnp.es/base_datos/Penal/lecr.html), las cuales"
    ));
    assert!(!item.rationale.contains(['<', '>']));
    assert!(!item.rationale.contains("LE0000017566"), "the HTML comment");
}

#[test]
fn fixture_moodle_examples_are_refused_for_a_title_used_twice() {
    let Some(errors) = fixture_refused("moodle-examples.gift.txt") else {
        return;
    };
    assert_eq!(
        errors,
        [
            "line 123: the id `jesus-hometown` is already used by the question at line 117; ids must be unique in a file: give one of them another `::title::` or a `// [id:...]` comment"
        ]
    );
    // With the second title changed, all 43 questions are items.
    let text = fixture_text("moodle-examples.gift.txt").unwrap();
    let at = text.rfind("::Jesus' hometown:: ").unwrap();
    let fixed = format!(
        "{}::Jesus' hometown again::{}",
        &text[..at],
        &text[at + 19..]
    );
    let list = items(&fixed);
    assert_eq!(list.len(), 43);
    let count = |kind: &str| list.iter().filter(|i| i.body.kind() == kind).count();
    assert_eq!(
        [
            "single_choice",
            "multiple_response",
            "true_false",
            "short_text",
            "numeric",
            "matching"
        ]
        .map(count),
        [16, 2, 5, 9, 8, 3]
    );
    let find = |stem: &str| list.iter().find(|i| i.stem == stem).unwrap();
    assert_eq!(
        find("Which answer equals 5?").body,
        single(&["= 2 + 2", "= 2 + 3", "= 2 + 4"], "b")
    );
    assert_eq!(
        find("Two plus two equals _____.").body,
        exact(&["four", "4"])
    );
}

#[test]
fn fixture_moodle_questions_are_refused_for_an_essay_and_a_title_used_twice() {
    let Some(errors) = fixture_refused("moodle-questions.gift.txt") else {
        return;
    };
    assert_eq!(
        errors,
        [
            format!("line 2: {ESSAY_LINE}"),
            "line 49: the id `2-08-tsl` is already used by the question at line 46; ids must be unique in a file: give one of them another `::title::` or a `// [id:...]` comment".to_owned()
        ]
    );
    // Without those two, the rest imports.
    let text = fixture_text("moodle-questions.gift.txt").unwrap();
    let at = text.rfind("::2-08 TSL::").unwrap();
    let fixed = format!("{}{}", &text[..at], &text[at + 12..])
        .replace("How are you? {}", "How are you? {T}");
    let list = items(&fixed);
    assert_eq!(
        ids(&list),
        [
            "q8",
            "moodle-activities",
            "q2",
            "colours",
            "q5",
            "shortanswer",
            "q1",
            "2-08-tsl",
            "gift-9"
        ]
    );
    assert_eq!(list[1].stem, "Match the activity to the description.");
    assert_eq!(
        matching_pairs(&list[1])[1],
        (
            "A teacher asks a question and specifies a choice of multiple responses.".to_owned(),
            "Choice".to_owned()
        )
    );
    assert_eq!(
        list[3].body,
        ItemBody::MultipleResponse {
            choices: choices(&["yellow", "red", "off-beige", "blue"]),
            correct: vec!["a".into(), "c".into()],
        }
    );
    assert_numeric(&list[4], 3.0, 2.0);
    // `=%0%*` is Moodle's catch-all for wrong answers, not an accepted one.
    assert_eq!(list[5].body, exact(&["Frog"]));
    assert_eq!(
        list[6].rationale,
        "This is, of course, a Hitchiker's Guide to the Galaxy reference.\n\"true\": 42 is the Ultimate Answer.\n\"false\": You gave the right answer."
    );
}

#[test]
fn fixture_moodle_export_in_a_category() {
    let Some(list) = fixture_items("moodle-questions_in_category.gift.txt") else {
        return;
    };
    assert_eq!(
        ids(&list),
        [
            "moodle-activities",
            "greeting",
            "moodle-user",
            "moodle-acronym"
        ]
    );
    assert!(list.iter().all(|i| i.domain == "default-for-new-features"));
    let ItemBody::Matching {
        prompts, targets, ..
    } = &list[0].body
    else {
        panic!("matching expected");
    };
    assert_eq!(prompts.len(), 4);
    // `= -> Chat` is a distractor.
    assert_eq!(targets[4].text, "Chat");
    assert_eq!(
        list[1].stem,
        "Listen to this greeting: (http://demo.moodle.net/file.php/5/media/bonjour.mp3)\n\nWhat language is being spoken?"
    );
    assert_eq!(
        list[1].body,
        single(&["English", "French", "German", "Spanish"], "b")
    );
    assert_eq!(list[2].body, exact(&["Moodler"]));
    assert_eq!(
        list[3].stem,
        "Moodle is an acronym for Modular Object-Oriented Dynamic Learning Environment."
    );
    assert_eq!(list[3].body, ItemBody::TrueFalse { correct: true });
}

#[test]
fn fixture_multi_line_feedback_and_word_html() {
    let Some(list) = fixture_items("multiLineFeedback1.gift") else {
        return;
    };
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0].rationale,
        "Global feedback split\non multiple lines\n\
         \"wrong answer\": feedback comment on the wrong answer\n\
         \"another wrong answer\": feedback comment on this wrong answer\non multiple lines\n\
         \"right answer\": Very good!"
    );
    assert_eq!(list[1].id, "06-creation-d-instance");
    assert!(
        list[1]
            .stem
            .starts_with("CU4-1 demarrerAbonnement(duree :Integer) : Comment réalise t’on"),
        "{}",
        list[1].stem
    );
    assert!(list[1].stem.ends_with("Les choix possibles sont :"));
    assert!(!list[1].stem.contains(['<', '>', '&', '\n']));
    assert_eq!(
        list[1].body,
        single(
            &[
                "Client",
                "ConditionAbonnement",
                "Paiement",
                "Emprunt",
                "ContrôleurAbonnement",
                "CléAccess"
            ],
            "e"
        )
    );
    // The general feedback is only an image; the answer feedback only line breaks.
    assert_eq!(list[1].rationale, "");
}

#[test]
fn fixture_multiple_answers_with_fractional_weights() {
    let Some(list) = fixture_items("multipleAnswersFloat.gift") else {
        return;
    };
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0].stem,
        "Select all of the options below which name a continent:"
    );
    assert_eq!(
        list[0].body,
        ItemBody::MultipleResponse {
            choices: choices(&["Africa", "Asia", "China", "Antarctica", "America"]),
            correct: vec!["a".into(), "b".into(), "d".into()],
        }
    );
}

#[test]
#[expect(
    clippy::approx_constant,
    reason = "the fixture's answers are pi rounded, as written in it"
)]
fn fixture_numerical() {
    let Some(list) = fixture_items("numerical1.gift") else {
        return;
    };
    assert_eq!(kinds(&list), ["numeric"; 10]);
    let expected = [
        (1822.0, 0.0),
        (-1.0, 0.0),
        (3.1415, 0.0005),
        (-3.142, 0.001),
        (3.1415, 0.0005),
        (-3.1415, 0.0005),
        (3.0, 2.0),
        (0.0, 5.0),
        (1822.0, 0.0),
        (9.0, 0.0),
    ];
    for (item, (answer, tolerance)) in list.iter().zip(expected) {
        assert_numeric(item, answer, tolerance);
    }
    assert_eq!(list[6].stem, "Give me a number from 1 to 5. _____.");
    assert_eq!(list[9].id, "combien-de-principes-grasp-y-a-t-il");
    assert_eq!(list[9].stem, "Combien de principes GRASP y a-t-il?");
    assert!(list[9].rationale.starts_with(
        "\"5:0\": Incorrect. Bien que le livre ne présente que 5 principes au début,"
    ));
    assert!(list[9].rationale.ends_with(
        "23 Patterns GoF (Gang des quatre) (http://fr.wikipedia.org/wiki/Design_Patterns)"
    ));
}

#[test]
fn fixture_options_are_refused_for_a_title_used_twice() {
    let Some(errors) = fixture_refused("options1.gift") else {
        return;
    };
    assert_eq!(
        errors,
        [
            "line 44: the id `jesus-hometown` is already used by the question at line 38; ids must be unique in a file: give one of them another `::title::` or a `// [id:...]` comment"
        ]
    );
}

#[test]
fn fixture_short_answers() {
    let Some(list) = fixture_items("shortAnswer2.gift") else {
        return;
    };
    assert_eq!(list[0].body, exact(&["no one", "nobody"]));
    assert_eq!(list[1].stem, "How do you write the word for the number 1?");
    assert_eq!(list[1].body, exact(&["One"]));
    let Some(list) = fixture_items("shortFirstEmbedded.gift") else {
        return;
    };
    assert_eq!(ids(&list), ["gift-1", "continents"]);
    assert_eq!(
        stems(&list),
        ["_____ is the largest continent in the world."; 2]
    );
    assert_eq!(list[1].body, exact(&["Asia"]));
}

#[test]
fn fixture_symbols_stay_as_written() {
    let Some(list) = fixture_items("symbolsAll.gift") else {
        return;
    };
    assert_eq!(list[0].id, "gift-range-of-non-escaped-symbols");
    assert_eq!(
        list[0].stem,
        "Here's a question that has symbols inside,\nsuch as `-=[];',./~!@#$%^&*()_+{}|:\"<>?"
    );
    assert_eq!(list[0].body, ItemBody::TrueFalse { correct: true });
}

#[test]
fn fixture_markdown_true_false() {
    let Some(list) = fixture_items("tf1_markdown.gift") else {
        return;
    };
    assert_eq!(list[0].stem, "Grant is buried in Grant's tomb.");
    assert_eq!(list[0].body, ItemBody::TrueFalse { correct: false });
}

#[test]
fn fixture_numerical_with_feedback_for_any_other_answer() {
    let Some(list) = fixture_items("totara_moodle_numerical.gift") else {
        return;
    };
    assert_eq!(list.len(), 1, "the commented-out question is ignored");
    assert_eq!(list[0].id, "q5");
    assert_eq!(list[0].stem, "What is a number from 1 to 5?");
    assert_numeric(&list[0], 3.0, 2.0);
    assert_eq!(list[0].rationale, "any other answer: Completely wrong");
}

#[test]
fn unclosed_tags_in_a_large_question_are_read_in_linear_time() {
    // 4 MB of `<a` with no `>`: each `<` is text, found without rescanning the rest.
    let line = "<a".repeat(30_000);
    let file = format!("[html]{}\n{{T}}", [line.as_str(); 70].join("\n"));
    let started = std::time::Instant::now();
    let stem = item(&file).stem;
    assert_eq!(stem.len(), 70 * 60_000 + 69);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
