use super::*;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Helpers

fn read(bytes: &[u8], format: TranscriptFormat) -> Result<Document, Vec<FormatError>> {
    parse(bytes, format, &TranscriptOptions::default())
}

fn vtt(text: &str) -> Document {
    read(text.as_bytes(), TranscriptFormat::WebVtt).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn srt(text: &str) -> Document {
    read(text.as_bytes(), TranscriptFormat::Srt).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn with(text: &str, options: &TranscriptOptions) -> Document {
    parse(text.as_bytes(), TranscriptFormat::WebVtt, options).unwrap_or_else(|e| panic!("{e:#?}"))
}

/// The rejection messages as displayed: `line N: ...`, or the bare message for the whole file.
fn refused(bytes: &[u8], format: TranscriptFormat) -> Vec<String> {
    match read(bytes, format) {
        Ok(doc) => panic!("the file should be refused, got {doc:#?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn vtt_refused(text: &str) -> Vec<String> {
    refused(text.as_bytes(), TranscriptFormat::WebVtt)
}

fn srt_refused(text: &str) -> Vec<String> {
    refused(text.as_bytes(), TranscriptFormat::Srt)
}

fn error_lines(bytes: &[u8], format: TranscriptFormat) -> Vec<usize> {
    match read(bytes, format) {
        Ok(doc) => panic!("the file should be refused, got {doc:#?}"),
        Err(errors) => errors.iter().map(|e| e.line).collect(),
    }
}

type Para = (String, Option<u64>, Option<String>);

fn para(text: &str, start_ms: u64, speaker: Option<&str>) -> Para {
    (text.to_owned(), Some(start_ms), speaker.map(str::to_owned))
}

fn paragraphs(doc: &Document) -> Vec<Para> {
    doc.sections
        .iter()
        .flat_map(|s| &s.blocks)
        .map(|b| match b {
            Block::Paragraph {
                text,
                start_ms,
                speaker,
            } => (text.clone(), *start_ms, speaker.clone()),
            other => panic!("transcripts give paragraphs only, got {other:?}"),
        })
        .collect()
}

fn texts(doc: &Document) -> Vec<String> {
    paragraphs(doc).into_iter().map(|p| p.0).collect()
}

/// Each section's heading, anchor, start and number of paragraphs.
fn outline(doc: &Document) -> Vec<(String, String, Option<u64>, usize)> {
    doc.sections
        .iter()
        .map(|s| {
            (
                s.heading.clone(),
                s.anchor.clone(),
                s.start_ms,
                s.blocks.len(),
            )
        })
        .collect()
}

fn section(
    heading: &str,
    anchor: &str,
    start_ms: u64,
    paragraphs: usize,
) -> (String, String, Option<u64>, usize) {
    (
        heading.to_owned(),
        anchor.to_owned(),
        Some(start_ms),
        paragraphs,
    )
}

/// A WebVTT file of `(start, end, text)` cues, times in milliseconds.
fn cues(list: &[(u64, u64, &str)]) -> String {
    let mut file = String::from("WEBVTT\n");
    for (start, end, text) in list {
        file.push_str(&format!(
            "\n{} --> {}\n{text}\n",
            clock(*start, TranscriptFormat::WebVtt),
            clock(*end, TranscriptFormat::WebVtt)
        ));
    }
    file
}

fn fixtures() -> Option<&'static Path> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("SKIPPED: ../shared/fixtures not found");
        None
    }
}

fn fixture(name: &str) -> Option<Vec<u8>> {
    let path = fixtures()?.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn fixture_text(name: &str) -> Option<String> {
    fixture(name).map(|bytes| String::from_utf8(bytes).expect("a UTF-8 fixture"))
}

fn whole_file(message: &str) -> Vec<String> {
    vec![message.to_owned()]
}

const SAMPLE: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana>Welcome to the café.\n";

// ---------------------------------------------------------------------------------------------
// Decoding: rejections of the file as a whole

#[test]
fn an_empty_file_is_refused() {
    assert_eq!(
        refused(b"", TranscriptFormat::WebVtt),
        whole_file("the file is empty")
    );
    assert_eq!(
        read(b"", TranscriptFormat::Srt).unwrap_err(),
        vec![FormatError::whole_file("the file is empty")]
    );
}

#[test]
fn a_file_of_whitespace_is_refused() {
    assert_eq!(
        refused(b" \n\t\r\n  \r", TranscriptFormat::Srt),
        whole_file("the file contains only whitespace")
    );
}

#[test]
fn a_lone_byte_order_mark_is_refused() {
    assert_eq!(
        refused(b"\xef\xbb\xbf", TranscriptFormat::WebVtt),
        whole_file("the file holds only a byte-order mark")
    );
}

#[test]
fn invalid_utf8_is_refused_with_its_byte_and_line() {
    assert_eq!(
        refused(b"WEBVTT\n\n00:\xff", TranscriptFormat::WebVtt),
        whole_file(
            "the file is not UTF-8 text (invalid byte 0xff at byte 12, line 3); save it as UTF-8"
        )
    );
    // Latin-1 `é` right after a line break; CR LF counts as one break.
    assert_eq!(
        refused(
            b"1\r\n00:00:01,000 --> 00:00:02,000\r\n\xe9t\xe9\r\n",
            TranscriptFormat::Srt
        ),
        whole_file(
            "the file is not UTF-8 text (invalid byte 0xe9 at byte 35, line 3); save it as UTF-8"
        )
    );
}

#[test]
fn utf8_cut_inside_a_character_is_refused() {
    assert_eq!(
        refused(b"\xef\xbb\xbfWEBVTT\n\xe2\x82", TranscriptFormat::WebVtt),
        whole_file(
            "the file is not UTF-8 text (it ends inside a multi-byte character at byte 11); save it as UTF-8"
        )
    );
}

#[test]
fn images_documents_and_recordings_are_named_for_what_they_are() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "the file is a PNG image, not a transcript",
        ),
        (
            b"PK\x03\x04\x14\0\x06\0word/document.xml",
            "the file is a ZIP archive (Word and other Office documents are ZIP archives), not a transcript",
        ),
        (
            b"\0\0\0\x18ftypmp42\0\0\0\0",
            "the file is an MP4 or QuickTime video, not a transcript",
        ),
        (
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
            "the file is a PDF document, not a transcript",
        ),
    ];
    for (bytes, message) in cases {
        assert_eq!(
            refused(bytes, TranscriptFormat::WebVtt),
            whole_file(message)
        );
    }
}

#[test]
fn a_file_ridden_with_nul_bytes_is_binary() {
    let mut bytes = b"WEBVTT\n".to_vec();
    bytes.extend([0; 12]);
    bytes.push(b'x');
    assert_eq!(
        refused(&bytes, TranscriptFormat::WebVtt),
        whole_file("the file is binary, not text (12 of its 20 characters are NUL)")
    );
}

#[test]
fn utf16_without_a_byte_order_mark_is_recognised_and_refused() {
    let bytes: Vec<u8> = SAMPLE.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert_eq!(
        refused(&bytes, TranscriptFormat::WebVtt),
        whole_file("the file looks like UTF-16 text without a byte-order mark; save it as UTF-8")
    );
}

#[test]
fn utf16_and_utf32_with_a_byte_order_mark_read_like_utf8() {
    let expected = vtt(SAMPLE);
    assert_eq!(texts(&expected), ["Welcome to the café."]);
    let utf16le: Vec<u8> = "\u{feff}"
        .encode_utf16()
        .chain(SAMPLE.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    let utf16be: Vec<u8> = "\u{feff}"
        .encode_utf16()
        .chain(SAMPLE.encode_utf16())
        .flat_map(u16::to_be_bytes)
        .collect();
    let utf32le: Vec<u8> = "\u{feff}"
        .chars()
        .chain(SAMPLE.chars())
        .flat_map(|c| u32::from(c).to_le_bytes())
        .collect();
    let utf32be: Vec<u8> = "\u{feff}"
        .chars()
        .chain(SAMPLE.chars())
        .flat_map(|c| u32::from(c).to_be_bytes())
        .collect();
    let utf8bom = [b"\xef\xbb\xbf".as_slice(), SAMPLE.as_bytes()].concat();
    for bytes in [utf16le, utf16be, utf32le, utf32be, utf8bom] {
        assert_eq!(read(&bytes, TranscriptFormat::WebVtt), Ok(expected.clone()));
    }
}

#[test]
fn broken_utf16_and_utf32_are_refused_with_the_byte() {
    assert_eq!(
        refused(b"\xff\xfeW\0E", TranscriptFormat::WebVtt),
        whole_file("the file is not UTF-16 text (it ends with a stray byte at byte 5)")
    );
    assert_eq!(
        refused(b"\xff\xfeW\0\x00\xd8X\0", TranscriptFormat::WebVtt),
        whole_file("the file is not UTF-16 text (unpaired surrogate 0xd800 at byte 5)")
    );
    assert_eq!(
        refused(b"\xff\xfe\0\0W\0\0\0E\0", TranscriptFormat::WebVtt),
        whole_file("the file is not UTF-32 text (it ends with 2 stray bytes)")
    );
    assert_eq!(
        refused(b"\xff\xfe\0\0W\0\0\0\0\0\x11\0", TranscriptFormat::WebVtt),
        whole_file("the file is not UTF-32 text (invalid code point 0x110000 at byte 9)")
    );
}

#[test]
fn a_few_nul_bytes_become_replacement_characters() {
    let doc = vtt("WEBVTT\n\n00:00.000 --> 00:01.000\nnull\0here\n");
    assert_eq!(texts(&doc), ["null\u{fffd}here"]);
}

#[test]
fn a_line_over_ten_thousand_characters_is_refused_with_its_number() {
    let file = format!(
        "WEBVTT\n\n00:00.000 --> 00:01.000\n{}\n\n00:01.000 --> 00:02.000\nfine\n",
        "é".repeat(10_001)
    );
    assert_eq!(
        vtt_refused(&file),
        ["line 4: the line is 10001 characters long; lines may be at most 10000"]
    );
    let exactly = format!(
        "WEBVTT\n\n00:00.000 --> 00:01.000\n{}\n",
        "a".repeat(10_000)
    );
    assert_eq!(texts(&vtt(&exactly))[0].len(), 10_000);
}

#[test]
fn a_flood_of_problems_is_cut_short() {
    let mut file = String::from("WEBVTT\n");
    for _ in 0..150 {
        file.push_str("\n00:00:1.000 --> 00:00:02.000\nx\n");
    }
    let errors = vtt_refused(&file);
    assert_eq!(errors.len(), 101);
    assert_eq!(
        errors[0],
        "line 3: `00:00:1.000` is not a timestamp; expected hh:mm:ss.ttt"
    );
    assert_eq!(errors[100], "50 more problems are not listed");
}

// ---------------------------------------------------------------------------------------------
// WebVTT structure

#[test]
fn the_webvtt_signature_is_required() {
    assert_eq!(
        vtt_refused("WEBVTTX\n\n00:00.000 --> 00:01.000\nhi\n"),
        ["line 1: expected the WEBVTT signature, found `WEBVTTX`"]
    );
    assert_eq!(
        vtt_refused("Hello\n"),
        ["line 1: expected the WEBVTT signature, found `Hello`"]
    );
    assert_eq!(
        vtt_refused("\nWEBVTT\n"),
        ["line 1: expected the WEBVTT signature, found a blank line"]
    );
    assert_eq!(
        vtt_refused("1\n00:00:01,000 --> 00:00:02,000\nHi\n"),
        ["line 1: expected the WEBVTT signature, found `1` (the file looks like SRT)"]
    );
}

#[test]
fn text_after_the_signature_is_the_title_unless_the_options_give_one() {
    let file = "WEBVTT - Partner onboarding, part 2\n\n00:01.000 --> 00:02.000\nHello.\n";
    assert_eq!(
        vtt(file).title.as_deref(),
        Some("Partner onboarding, part 2")
    );
    let options = TranscriptOptions {
        title: Some("  Onboarding  ".into()),
        ..TranscriptOptions::default()
    };
    assert_eq!(with(file, &options).title.as_deref(), Some("Onboarding"));
    assert_eq!(vtt("WEBVTT\tcaptions\n").title.as_deref(), Some("captions"));
    assert_eq!(vtt("WEBVTT\n").title, None);
    assert_eq!(vtt("WEBVTT FILE\n").title, None);
}

#[test]
fn a_file_with_a_signature_and_no_cues_is_an_empty_document() {
    assert_eq!(
        vtt("WEBVTT\n\nNOTE nothing was said\n"),
        Document {
            title: None,
            sections: vec![]
        }
    );
}

#[test]
fn header_style_region_and_note_blocks_are_skipped() {
    let file = "WEBVTT\nKind: captions\nLanguage: en\n\nSTYLE\n::cue { color: white }\n\nREGION\nid:left\n\nNOTE a comment\nthat spans lines\n\nintro\n00:00:01.000 --> 00:00:03.000 align:start position:10% region:left\nWelcome to the session.\n\nSTYLE\n::cue(b) { color: red }\n";
    assert_eq!(
        paragraphs(&vtt(file)),
        [para("Welcome to the session.", 1_000, None)]
    );
}

#[test]
fn unknown_blocks_before_the_first_cue_are_header_matter() {
    let file = "WEBVTT\n\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:01.000 --> 00:00:02.000\nHi.\n";
    assert_eq!(texts(&vtt(file)), ["Hi."]);
}

#[test]
fn cue_identifiers_are_optional_and_short_and_long_hours_are_read() {
    let file = "WEBVTT\n\nfirst\n00:05.000 --> 00:07.500\nOne.\n\n00:00:07.500 --> 00:00:09.000\nTwo.\n\n100:00:00.000 --> 100:00:01.000\nThree.\n";
    assert_eq!(
        paragraphs(&vtt(file)),
        [
            para("One. Two.", 5_000, None),
            para("Three.", 360_000_000, None)
        ]
    );
}

#[test]
fn timestamps_may_have_short_fractions_or_none_after_hours() {
    let file = "WEBVTT\n\n00:01:39 --> 00:01:41.04\nOne\n\n00:01:41.5 --> 00:01:42.250\ntwo\n";
    assert_eq!(paragraphs(&vtt(file)), [para("One two", 99_000, None)]);
    // Without hours `01:39` could be hours and minutes, so the fraction is required there.
    assert_eq!(
        vtt_refused("WEBVTT\n\n01:39 --> 01:41.000\nOne\n"),
        ["line 3: `01:39` is not a timestamp; expected hh:mm:ss.ttt"]
    );
}

#[test]
fn voice_spans_give_the_speaker_and_other_markup_is_stripped() {
    let file = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v.loud Ana   Lima>We <b>ship</b> <i>every</i> <u>week</u> &amp; <c.yellow.bg_blue>test</c> &lt;all&gt;&nbsp;of it</v>\n\n00:00:04.000 --> 00:00:06.000\n<v Ana Lima><lang en-GB>Karaoke</lang> <00:00:04.500>style: <ruby>漢字<rt>かんじ</rt></ruby> too&#33; &#x263A;&#0;\n";
    assert_eq!(
        paragraphs(&vtt(file)),
        [para(
            "We ship every week & test <all>\u{a0}of it Karaoke style: 漢字 too! ☺\u{fffd}",
            1_000,
            Some("Ana Lima")
        )]
    );
}

#[test]
fn ruby_annotations_are_dropped_as_pronunciation_guides() {
    let file =
        "WEBVTT\n\n00:00.000 --> 00:01.000\n<ruby>東京<rt>とうきょう</rt></ruby>に行きます。\n";
    assert_eq!(texts(&vtt(file)), ["東京に行きます。"]);
}

#[test]
fn two_voices_in_one_cue_are_two_paragraphs() {
    let file = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Mary>Ready?</v>\n<v Bob>Yes.</v>\n";
    assert_eq!(
        paragraphs(&vtt(file)),
        [
            para("Ready?", 1_000, Some("Mary")),
            para("Yes.", 1_000, Some("Bob"))
        ]
    );
}

#[test]
fn webvtt_cues_without_voice_spans_take_a_leading_name_label_too() {
    let file = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nJohn Smith: Hello there.\n\n00:00:03.000 --> 00:00:04.000\nMaria: Hi John.\n";
    assert_eq!(
        paragraphs(&vtt(file)),
        [
            para("Hello there.", 1_000, Some("John Smith")),
            para("Hi John.", 3_000, Some("Maria"))
        ]
    );
}

#[test]
fn whitespace_only_lines_separate_cues_like_blank_lines() {
    // To the spec `   ` is cue text, which would glue the next identifier `2` onto `one`.
    let file = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\n   \n2\n00:00:02.000 --> 00:00:03.000\ntwo\n";
    assert_eq!(texts(&vtt(file)), ["one two"]);
}

#[test]
fn an_arrow_in_cue_text_is_refused_rather_than_dropped() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nThe arrow --> is not allowed\n"),
        [
            "line 4: `The arrow --> is not allowed` contains `-->` but is not a timing line; cue identifiers and text must not contain `-->`"
        ]
    );
}

#[test]
fn text_outside_any_cue_is_refused_in_webvtt() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\none\n\nstray words\nmore\n"),
        [
            "line 6: text outside any cue: `stray words`; a cue starts with a timing line such as `00:00:01.000 --> 00:00:04.000`"
        ]
    );
}

#[test]
fn a_timing_line_without_its_arrow_is_named() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n1\n00:00:01.000 - 00:00:02.000\nHi\n"),
        [
            "line 4: `00:00:01.000 - 00:00:02.000` is not a timing line: the start and end times must be separated by `-->`"
        ]
    );
}

#[test]
fn note_chapter_markers_start_sections() {
    let file = "WEBVTT\n\nNOTE Chapter: Webhooks and retries\n\n00:00:01.000 --> 00:00:03.000\nWebhooks first.\n\nNOTE == Data residency ==\n\n00:00:04.000 --> 00:00:06.000\nThen residency.\n\nNOTE\nChapter 3 – Questions\n\n00:00:07.000 --> 00:00:08.000\nAny questions?\n\nNOTE just a remark\n\n00:00:08.000 --> 00:00:09.000\nNo.\n";
    let doc = vtt(file);
    assert_eq!(
        outline(&doc),
        [
            section("Webhooks and retries", "webhooks-and-retries", 1_000, 1),
            section("Data residency", "data-residency", 4_000, 1),
            section("Questions", "questions", 7_000, 1),
        ]
    );
    assert_eq!(texts(&doc)[2], "Any questions? No.");
}

#[test]
fn chapter_titles_are_recognised_in_their_usual_spellings() {
    let cases = [
        (
            "Chapter: Webhooks and retries",
            Some("Webhooks and retries"),
        ),
        ("CHAPTER 2 - Retries", Some("Retries")),
        ("Section IV. Wrap-up", Some("Wrap-up")),
        ("Part 3", Some("Part 3")),
        ("Topic: Pricing", Some("Pricing")),
        ("== Data residency ==", Some("Data residency")),
        ("## Q&A", Some("Q&A")),
        ("Part of the problem is latency", None),
        ("Chapters are hard", None),
        ("this is a comment", None),
        ("====", None),
    ];
    for (note, title) in cases {
        assert_eq!(chapter_title(note).as_deref(), title, "{note}");
    }
}

// ---------------------------------------------------------------------------------------------
// Timing rejections (each kind with its message and line)

#[test]
fn a_malformed_timestamp_is_refused() {
    assert_eq!(
        vtt_refused(
            "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nok\n\n00:01:7.000 --> 00:01:08.000\nbad\n"
        ),
        ["line 6: `00:01:7.000` is not a timestamp; expected hh:mm:ss.ttt"]
    );
    assert_eq!(
        srt_refused("1\n00:00:1,000 --> 00:00:02,000\nbad\n"),
        ["line 2: `00:00:1,000` is not a timestamp; expected hh:mm:ss,mmm"]
    );
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:01.000 --> 00:00:02.0000\nbad\n"),
        ["line 3: `00:00:02.0000` is not a timestamp; expected hh:mm:ss.ttt"]
    );
}

#[test]
fn sixty_minutes_or_seconds_are_refused() {
    assert_eq!(
        vtt_refused(
            "WEBVTT\n\n00:00:60.000 --> 00:01:01.000\na\n\n00:00:01.000 --> 00:60:00.000\nb\n"
        ),
        [
            "line 3: `00:00:60.000` is not a timestamp: the seconds must be below 60",
            "line 6: `00:60:00.000` is not a timestamp: the minutes must be below 60"
        ]
    );
}

#[test]
fn an_srt_comma_in_webvtt_is_explained() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHi\n"),
        [
            "line 3: `00:00:01,000` is not a WebVTT timestamp: WebVTT puts `.` before the milliseconds, not `,`"
        ]
    );
}

#[test]
fn an_enormous_timestamp_is_refused() {
    assert_eq!(
        vtt_refused(
            "WEBVTT\n\n99999999999999999999:00:00.000 --> 99999999999999999999:00:01.000\nHi\n"
        ),
        ["line 3: `99999999999999999999:00:00.000` is too large a timestamp"]
    );
    assert_eq!(
        vtt_refused("WEBVTT\n\n9999999999999:00:00.000 --> 9999999999999:00:01.000\nHi\n"),
        ["line 3: `9999999999999:00:00.000` is too large a timestamp"]
    );
}

#[test]
fn garbage_between_the_start_time_and_the_arrow_is_refused() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:00.000 -a --> 00:00:01.000\nHi\n"),
        ["line 3: expected `-->` after the start time `00:00:00.000`, found `-a --> 00:00:01.000`"]
    );
}

#[test]
fn a_timing_line_without_an_end_time_is_refused() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:01.000 -->\nHello\n"),
        ["line 3: the timing line `00:00:01.000 -->` has no end time after `-->`"]
    );
}

#[test]
fn a_cue_ending_before_it_starts_is_refused() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:05.000 --> 00:00:03.000\nBackwards\n"),
        ["line 3: the cue ends (00:00:03.000) before it starts (00:00:05.000)"]
    );
    assert_eq!(
        srt_refused("1\n00:00:05,000 --> 00:00:03,000\nBackwards\n"),
        ["line 2: the cue ends (00:00:03,000) before it starts (00:00:05,000)"]
    );
    // Zero length is allowed: some tools write it for very short words.
    assert_eq!(
        texts(&vtt("WEBVTT\n\n00:00:05.000 --> 00:00:05.000\nUh\n")),
        ["Uh"]
    );
}

#[test]
fn cues_out_of_time_order_are_refused() {
    assert_eq!(
        vtt_refused(&cues(&[(7_000, 8_000, "later"), (5_000, 6_000, "earlier")])),
        [
            "line 6: the cue starts (00:00:05.000) before the previous cue at line 3 starts (00:00:07.000); cues must be in time order"
        ]
    );
}

#[test]
fn overlaps_beyond_a_second_are_refused_naming_both_cues() {
    assert_eq!(
        vtt_refused(&cues(&[(0, 10_000, "long"), (7_500, 12_000, "early")])),
        [
            "line 6: the cue starts (00:00:07.500) 2.5 s before the cue at line 3 ends (00:00:10.000); cues may overlap by at most 1 s"
        ]
    );
    // A second of lingering is tolerated.
    assert_eq!(
        texts(&vtt(&cues(&[
            (0, 10_000, "long"),
            (9_000, 12_000, "enough")
        ]))),
        ["long enough"]
    );
}

#[test]
fn named_speakers_talking_over_each_other_may_overlap() {
    let file = "WEBVTT\n\n00:00:30.000 --> 00:00:35.500\n<v Roger>No! No no no no\n\n00:00:32.500 --> 00:00:33.500\n<v Neil><i>Laughs</i>\n\n00:00:34.000 --> 00:00:36.000\nROGER: Right.\n";
    assert_eq!(
        paragraphs(&vtt(file)),
        [
            para("No! No no no no", 30_000, Some("Roger")),
            para("Laughs", 32_500, Some("Neil")),
            para("Right.", 34_000, Some("ROGER"))
        ]
    );
    // The same speaker overlapping themselves is still a broken file.
    assert_eq!(
        error_lines(
            b"WEBVTT\n\n00:00:30.000 --> 00:00:35.500\n<v Roger>One\n\n00:00:32.500 --> 00:00:33.500\n<v Roger>Two\n",
            TranscriptFormat::WebVtt
        ),
        [6]
    );
}

#[test]
fn a_file_cut_off_inside_a_timing_line_is_truncated() {
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:00.000 -->"),
        ["line 3: the file ends inside a timing line (`00:00:00.000 -->`); it looks truncated"]
    );
    assert_eq!(
        srt_refused("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:0"),
        ["line 6: the file ends inside a timing line (`00:00:0`); it looks truncated"]
    );
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n\n00:00:03.000 -"),
        ["line 6: the file ends inside a timing line (`00:00:03.000 -`); it looks truncated"]
    );
    assert_eq!(
        vtt_refused("WEBVTT\n\n00:00:0"),
        ["line 3: the file ends inside a timing line (`00:00:0`); it looks truncated"]
    );
}

#[test]
fn a_file_ending_right_after_a_timing_line_is_truncated() {
    let expected = [
        "line 6: the file ends right after this timing line, with no cue text; it looks truncated",
    ];
    assert_eq!(
        vtt_refused(
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n\n00:00:03.000 --> 00:00:04.000\n\n"
        ),
        expected
    );
    assert_eq!(
        srt_refused("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,000 --> 00:00:04,000"),
        expected
    );
}

#[test]
fn all_problems_are_reported_together_in_line_order() {
    let file = "WEBVTT\n\n00:00:05.000 --> 00:00:03.000\na\n\n00:00:61.000 --> 00:01:02.000\nb\n\n00:00:10.000 --> 00:00:11.000\nc\n\n00:00:08.000 --> 00:00:09.000\nd\n";
    assert_eq!(
        error_lines(file.as_bytes(), TranscriptFormat::WebVtt),
        [3, 6, 12]
    );
}

// ---------------------------------------------------------------------------------------------
// SRT

#[test]
fn srt_markup_positioning_codes_and_entities_are_removed() {
    let file = "1\n00:00:01,000 --> 00:00:03,500\nHello <i>there</i>,\n<font color=\"#ff0000\">friends</font> &amp; <b><u>guests</u></b>.\n\n2\n00:00:03,600 --> 00:00:05.000 X1:10 X2:20 Y1:5 Y2:9\n{\\an8}Line one\\Nline\\htwo; 2<3 and 5>4.\n";
    assert_eq!(
        paragraphs(&srt(file)),
        [para(
            "Hello there, friends & guests. Line one line\u{a0}two; 2<3 and 5>4.",
            1_000,
            None
        )]
    );
}

#[test]
fn srt_reads_short_fractions_dots_and_missing_sequence_numbers() {
    let file =
        "00:01:39 --> 00:01:41,04\n(deep rumbling)\n\n00:01:41.50 --> 00:01:42.5\nthen quiet\n";
    assert_eq!(
        paragraphs(&srt(file)),
        [para("(deep rumbling) then quiet", 99_000, None)]
    );
}

#[test]
fn a_sequence_number_glued_to_the_previous_cue_is_recognised() {
    let file = "1\n00:00:01,000 --> 00:00:02,000\nWe found 632\n2\n00:00:02,000 --> 00:00:03,000\npieces.\n";
    assert_eq!(texts(&srt(file)), ["We found 632 pieces."]);
}

#[test]
fn srt_text_outside_any_cue_is_refused() {
    assert_eq!(
        srt_refused("1\n00:00:01,000 --> 00:00:02,000\nHi\n\nstray words\nmore\n"),
        [
            "line 5: text outside any cue: `stray words`; expected a sequence number or a timing line such as `00:00:01,000 --> 00:00:04,000`"
        ]
    );
    assert_eq!(
        srt_refused("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n"),
        ["line 1: text outside any cue: `WEBVTT` (the file looks like WebVTT)"]
    );
}

#[test]
fn a_sequence_number_needs_its_timing_line() {
    assert_eq!(
        srt_refused("1\nHello\n"),
        ["line 2: expected a timing line after the sequence number `1`, found `Hello`"]
    );
    assert_eq!(
        srt_refused("1\n\n00:00:01,000 --> 00:00:02,000\nHi\n"),
        ["line 1: the sequence number `1` is not followed by a timing line"]
    );
    assert_eq!(
        srt_refused("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n"),
        [
            "line 5: the file ends after the sequence number `2`, before its timing line; it looks truncated"
        ]
    );
    assert_eq!(
        srt_refused("1\n00:00:01,000 - 00:00:02,000\nHi\n"),
        [
            "line 2: `00:00:01,000 - 00:00:02,000` is not a timing line: the start and end times must be separated by `-->`"
        ]
    );
}

#[test]
fn srt_speakers_come_from_name_labels_and_carry_on_until_the_next() {
    let file = "1\n00:00:01,000 --> 00:00:03,000\nJOHN SMITH: Welcome, everyone.\n\n2\n00:00:03,000 --> 00:00:05,000\nToday is about renewals.\n\n3\n00:00:05,000 --> 00:00:07,000\n- Dr. Ana Lima: Thanks, John.\n- Speaker 2: And from me.\n\n4\n00:00:07,000 --> 00:00:09,000\nNote: the slides are shared.\n\n5\n00:00:09,000 --> 00:00:10,000\nLudwig van Beethoven: Da-da-da-dum.\n";
    assert_eq!(
        paragraphs(&srt(file)),
        [
            para(
                "Welcome, everyone. Today is about renewals.",
                1_000,
                Some("JOHN SMITH")
            ),
            para("Thanks, John.", 5_000, Some("Dr. Ana Lima")),
            para(
                "And from me. Note: the slides are shared.",
                5_000,
                Some("Speaker 2")
            ),
            para("Da-da-da-dum.", 9_000, Some("Ludwig van Beethoven")),
        ]
    );
}

#[test]
fn a_bare_label_names_the_speaker_of_the_following_lines_and_cues() {
    let file = "1\n00:00:01,000 --> 00:00:02,000\nIntro music.\n\n2\n00:00:02,000 --> 00:00:03,000\nMAN:\n\n3\n00:00:03,000 --> 00:00:04,000\nHow did we end up here?\n";
    assert_eq!(
        paragraphs(&srt(file)),
        [
            para("Intro music.", 1_000, None),
            para("How did we end up here?", 3_000, Some("MAN"))
        ]
    );
}

#[test]
fn labels_that_are_not_names_stay_text() {
    for line in [
        "Step 1: open the console.",
        "the time is 10:30: late",
        "https://example.com/path",
        "Our Very Long Product Name Here: yes",
        "Warning: do not restart.",
        "iPhone: works",
    ] {
        let file = format!("1\n00:00:01,000 --> 00:00:02,000\n{line}\n");
        assert_eq!(paragraphs(&srt(&file)), [para(line, 1_000, None)], "{line}");
    }
}

#[test]
fn dialogue_dashes_without_names_are_separate_turns() {
    let file = "1\n00:00:01,000 --> 00:00:03,000\n- Is it ready?\n-Yes, ship it.\n";
    assert_eq!(
        paragraphs(&srt(file)),
        [
            para("Is it ready?", 1_000, None),
            para("Yes, ship it.", 1_000, None)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Paragraphs

#[test]
fn cues_merge_into_paragraphs_and_broken_words_are_rejoined() {
    let doc = vtt(&cues(&[
        (0, 1_000, "We will follow-"),
        (1_000, 2_000, "up with a self-\nservice portal, wait --"),
        (2_000, 3_000, "what was it?\nThe long-\nawaited launch."),
    ]));
    assert_eq!(
        paragraphs(&doc),
        [para(
            "We will follow-up with a self-service portal, wait -- what was it? The long-awaited launch.",
            0,
            None
        )]
    );
}

#[test]
fn a_pause_longer_than_pause_ms_ends_a_paragraph() {
    let doc = vtt(&cues(&[
        (0, 2_000, "one"),
        (6_000, 7_000, "two"),
        (11_001, 12_000, "three"),
    ]));
    assert_eq!(
        paragraphs(&doc),
        [para("one two", 0, None), para("three", 11_001, None)]
    );
    let options = TranscriptOptions {
        pause_ms: 1_000,
        ..TranscriptOptions::default()
    };
    assert_eq!(
        texts(&with(
            &cues(&[(0, 2_000, "one"), (3_500, 4_000, "two")]),
            &options
        )),
        ["one", "two"]
    );
}

#[test]
fn a_long_paragraph_ends_where_a_cue_ends_a_sentence() {
    let options = TranscriptOptions {
        max_paragraph_chars: 25,
        ..TranscriptOptions::default()
    };
    let doc = with(
        &cues(&[
            (0, 1_000, "First we look at"),
            (1_000, 2_000, "tiers and their rules."),
            (2_000, 3_000, "Then benefits,"),
            (3_000, 4_000, "which follow."),
            (4_000, 5_000, "Done."),
        ]),
        &options,
    );
    assert_eq!(
        paragraphs(&doc),
        [
            para("First we look at tiers and their rules.", 0, None),
            para("Then benefits, which follow.", 2_000, None),
            para("Done.", 4_000, None),
        ]
    );
}

#[test]
fn unpunctuated_speech_is_cut_at_twice_the_paragraph_length() {
    let options = TranscriptOptions {
        max_paragraph_chars: 10,
        ..TranscriptOptions::default()
    };
    let doc = with(
        &cues(&[
            (0, 1_000, "so then we"),
            (1_000, 2_000, "open the console"),
            (2_000, 3_000, "and click"),
        ]),
        &options,
    );
    assert_eq!(texts(&doc), ["so then we open the console", "and click"]);
}

#[test]
fn a_change_of_speaker_ends_a_paragraph_and_unlabelled_cues_continue_the_speaker() {
    let doc = vtt(&cues(&[
        (0, 1_000, "<v Ana>Hello."),
        (1_000, 2_000, "How are you?"),
        (2_000, 3_000, "<v Bob>Fine."),
        (3_000, 4_000, "<v Bob>Thanks."),
        (9_000, 10_000, "And you?"),
    ]));
    assert_eq!(
        paragraphs(&doc),
        [
            para("Hello. How are you?", 0, Some("Ana")),
            para("Fine. Thanks.", 2_000, Some("Bob")),
            para("And you?", 9_000, Some("Bob")),
        ]
    );
}

#[test]
fn cues_with_no_words_are_skipped() {
    let doc = vtt(&cues(&[
        (0, 1_000, "one"),
        (1_000, 2_000, "<i> </i>&nbsp;"),
        (2_000, 3_000, "two"),
    ]));
    assert_eq!(texts(&doc), ["one two"]);
}

// ---------------------------------------------------------------------------------------------
// Sections

#[test]
fn chapters_from_the_options_split_sections_with_unique_anchors() {
    let file = cues(&[
        (0, 1_000, "Hello."),
        (60_000, 61_000, "Agenda."),
        (120_000, 121_000, "Demo time."),
        (180_000, 181_000, "Back to basics."),
    ]);
    let options = TranscriptOptions {
        chapters: vec![
            (150_000, "Intro".into()),
            (0, "Intro".into()),
            (100_000, " Demo ".into()),
        ],
        ..TranscriptOptions::default()
    };
    let doc = with(&file, &options);
    assert_eq!(
        outline(&doc),
        [
            section("Intro", "intro", 0, 2),
            section("Demo", "demo", 100_000, 1),
            section("Intro", "intro-2", 150_000, 1),
        ]
    );
    assert_eq!(
        texts(&doc),
        ["Hello.", "Agenda.", "Demo time.", "Back to basics."]
    );
}

#[test]
fn chapters_from_the_options_replace_the_files_markers() {
    let file = "WEBVTT\n\nNOTE Chapter: From the file\n\n00:00:01.000 --> 00:00:02.000\nHi.\n";
    let options = TranscriptOptions {
        chapters: vec![(0, "From the options".into())],
        ..TranscriptOptions::default()
    };
    assert_eq!(
        outline(&with(file, &options)),
        [section("From the options", "from-the-options", 0, 1)]
    );
}

#[test]
fn talk_before_the_first_chapter_gets_its_own_section_and_empty_chapters_are_dropped() {
    let file = cues(&[
        (0, 1_000, "[music] (laughs) Okay, let's begin. Welcome."),
        (70_000, 71_000, "Questions?"),
    ]);
    let options = TranscriptOptions {
        chapters: vec![
            (60_000, "Nothing said".into()),
            (65_000, "Q&A".into()),
            (900_000, "After the end".into()),
        ],
        ..TranscriptOptions::default()
    };
    assert_eq!(
        outline(&with(&file, &options)),
        [
            section("Okay, let's begin", "okay-let-s-begin", 0, 1),
            section("Q&A", "q-a", 65_000, 1),
        ]
    );
}

#[test]
fn a_chapter_with_a_blank_title_gets_a_heading_from_its_words() {
    let options = TranscriptOptions {
        chapters: vec![(0, "  ".into())],
        ..TranscriptOptions::default()
    };
    let doc = with(&cues(&[(0, 1_000, "Pricing has three tiers.")]), &options);
    assert_eq!(
        outline(&doc),
        [section(
            "Pricing has three tiers",
            "pricing-has-three-tiers",
            0,
            1
        )]
    );
}

#[test]
fn without_chapters_a_long_pause_starts_a_section() {
    let doc = vtt(&cues(&[
        (
            0,
            2_000,
            "Welcome to the partner onboarding session for new resellers today.",
        ),
        (13_999, 15_000, "Still the same part."),
        (27_000, 28_000, "After the break, pricing."),
    ]));
    assert_eq!(
        outline(&doc),
        [
            section(
                "Welcome to the partner onboarding session for new…",
                "welcome-to-the-partner-onboarding-session-for-new",
                0,
                2
            ),
            section(
                "After the break, pricing",
                "after-the-break-pricing",
                27_000,
                1
            ),
        ]
    );
}

#[test]
fn without_chapters_or_pauses_sections_come_every_five_minutes_at_a_paragraph() {
    // A cue every 30 s with a 5 s pause: a paragraph each, no long pauses.
    let list: Vec<(u64, u64, String)> = (0..24)
        .map(|i| (i * 30_000, i * 30_000 + 25_000, format!("Point {i}.")))
        .collect();
    let borrowed: Vec<(u64, u64, &str)> =
        list.iter().map(|(s, e, t)| (*s, *e, t.as_str())).collect();
    let doc = vtt(&cues(&borrowed));
    assert_eq!(
        outline(&doc),
        [
            section("Point 0", "point-0", 0, 10),
            section("Point 10", "point-10", 300_000, 10),
            section("Point 20", "point-20", 600_000, 4),
        ]
    );
}

#[test]
fn sections_of_sound_descriptions_only_are_numbered_parts() {
    let doc = srt(
        "1\n00:01:39,000 --> 00:01:41,000\n(deep rumbling)\n\n2\n01:02:03,000 --> 01:02:04,000\n[music]\n",
    );
    assert_eq!(
        outline(&doc),
        [
            section("Part 1 (01:39)", "part-1-01-39", 99_000, 1),
            section("Part 2 (1:02:03)", "part-2-1-02-03", 3_723_000, 1),
        ]
    );
}

#[test]
fn headings_take_the_first_sentences_leading_words() {
    assert_eq!(
        leading_words("Did one of the last stories strike you as more interesting? Yes."),
        Some("Did one of the last stories strike you…".into())
    );
    assert_eq!(
        leading_words("How did we end up here? No idea."),
        Some("How did we end up here?".into())
    );
    assert_eq!(
        leading_words("♪ [music] Right, so: v2.1 ships today."),
        Some("Right, so: v2.1 ships today".into())
    );
    assert_eq!(leading_words("(applause)"), None);
}

// ---------------------------------------------------------------------------------------------
// Detection

#[test]
fn detection_prefers_the_content_and_falls_back_to_the_extension() {
    let srt_text = b"\xef\xbb\xbf1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n";
    assert_eq!(
        detect(SAMPLE.as_bytes(), Some("talk.srt")),
        Some(TranscriptFormat::WebVtt)
    );
    assert_eq!(detect(srt_text, None), Some(TranscriptFormat::Srt));
    assert_eq!(
        detect(b"00:00:01,000 --> 00:00:02,000\nHi\n", Some("x.txt")),
        Some(TranscriptFormat::Srt)
    );
    assert_eq!(
        detect(b"garbage", Some("Session.VTT")),
        Some(TranscriptFormat::WebVtt)
    );
    assert_eq!(detect(b"", Some("empty.srt")), Some(TranscriptFormat::Srt));
    assert_eq!(detect(b"just notes", Some("notes.txt")), None);
    assert_eq!(detect(b"just notes", None), None);
}

// ---------------------------------------------------------------------------------------------
// Real-world fixtures (../shared/fixtures; see SOURCES.md there)

/// The film excerpt shared by several astisub fixtures, in every encoding and format.
fn assert_astisub_example(doc: &Document) {
    assert_eq!(doc.title, None);
    assert_eq!(
        outline(doc),
        [
            section("Part 1 (01:39)", "part-1-01-39", 99_000, 1),
            section(
                "How did we end up here?",
                "how-did-we-end-up-here",
                124_080,
                4
            ),
        ]
    );
    assert_eq!(
        paragraphs(doc),
        [
            para("(deep rumbling)", 99_000, None),
            para("How did we end up here?", 124_080, Some("MAN")),
            para("This place is horrible.", 132_160, Some("MAN")),
            para("Smells like balls.", 140_240, Some("MAN")),
            para(
                "We don't belong in this shithole. (computer playing electronic melody)",
                148_320,
                Some("MAN")
            ),
        ]
    );
}

#[test]
fn astisub_example_with_style_region_notes_and_two_digit_fractions_is_read() {
    let Some(bytes) = fixture("webvtt/astisub-example-in.vtt") else {
        return;
    };
    assert_astisub_example(&read(&bytes, TranscriptFormat::WebVtt).unwrap());
}

#[test]
fn astisub_utf16_fixtures_read_like_their_utf8_versions() {
    let Some(vtt16) = fixture("webvtt/astisub-example-in-non-utf8.vtt") else {
        return;
    };
    assert!(vtt16.starts_with(b"\xff\xfe"));
    assert_astisub_example(&read(&vtt16, TranscriptFormat::WebVtt).unwrap());
    let Some(srt16) = fixture("srt/astisub-example-in-non-utf8.srt") else {
        return;
    };
    assert_astisub_example(&read(&srt16, TranscriptFormat::Srt).unwrap());
}

#[test]
fn astisub_srt_fixtures_with_and_without_sequence_numbers_are_read() {
    for name in [
        "srt/astisub-example-in.srt",
        "srt/astisub-missing-sequence-in.srt",
    ] {
        let Some(bytes) = fixture(name) else {
            return;
        };
        assert_eq!(detect(&bytes, None), Some(TranscriptFormat::Srt), "{name}");
        assert_astisub_example(&read(&bytes, TranscriptFormat::Srt).unwrap());
    }
}

#[test]
fn astisub_carriage_return_files_merge_contiguous_cues_into_one_paragraph() {
    for (name, format) in [
        (
            "webvtt/astisub-example-in-carriage-return.vtt",
            TranscriptFormat::WebVtt,
        ),
        (
            "srt/astisub-example-in-carriage-return.srt",
            TranscriptFormat::Srt,
        ),
    ] {
        let Some(bytes) = fixture(name) else {
            return;
        };
        let doc = read(&bytes, format).unwrap();
        assert_eq!(
            outline(&doc),
            [section(
                "Did one of the last stories strike you…",
                "did-one-of-the-last-stories-strike-you",
                0,
                1
            )]
        );
        assert_eq!(
            paragraphs(&doc),
            [para(
                "Did one of the last stories strike you as more interesting than the other? That's true. You don’t often find 632 pieces of gum stuck on a sidewalk at a busy bus stop or anywhere else for that matter.",
                0,
                None
            )]
        );
    }
}

#[test]
fn astisub_broken_file_is_refused_at_its_blank_first_line() {
    let Some(bytes) = fixture("webvtt/astisub-broken-1-in.vtt") else {
        return;
    };
    assert_eq!(
        refused(&bytes, TranscriptFormat::WebVtt),
        ["line 1: expected the WEBVTT signature, found a blank line"]
    );
}

#[test]
fn vttjs_blank_and_garbage_files_are_refused() {
    let Some(blank) = fixture("webvtt/vttjs-blank-file.vtt") else {
        return;
    };
    assert_eq!(
        refused(&blank, TranscriptFormat::WebVtt),
        whole_file("the file is empty")
    );
    let Some(garbage) = fixture("webvtt/vttjs-garbage-signature.vtt") else {
        return;
    };
    assert_eq!(
        refused(&garbage, TranscriptFormat::WebVtt),
        ["line 1: expected the WEBVTT signature, found `garbage vtt file`"]
    );
}

#[test]
fn vttjs_many_comments_skips_notes_and_splits_dialogue_dashes() {
    let Some(bytes) = fixture("webvtt/vttjs-many-comments.vtt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::WebVtt).unwrap();
    assert_eq!(
        outline(&doc),
        [section(
            "Never drink liquid nitrogen",
            "never-drink-liquid-nitrogen",
            1_000,
            3
        )]
    );
    assert_eq!(
        paragraphs(&doc),
        [
            para("Never drink liquid nitrogen.", 1_000, None),
            para("It will perforate your stomach.", 5_000, None),
            para("You could die.", 5_000, None),
        ]
    );
}

#[test]
fn vttjs_regions_is_valid_webvtt_but_refused_for_cues_overlapping_by_seventeen_seconds() {
    let Some(bytes) = fixture("webvtt/vttjs-regions.vtt") else {
        return;
    };
    let errors = refused(&bytes, TranscriptFormat::WebVtt);
    assert_eq!(
        error_lines(&bytes, TranscriptFormat::WebVtt),
        [8, 11, 14, 17, 20]
    );
    assert_eq!(
        errors[0],
        "line 8: the cue starts (00:00:02.500) 17.5 s before the cue at line 5 ends (00:00:20.000); cues may overlap by at most 1 s"
    );
}

#[test]
fn vttjs_spec_example_keeps_crosstalk_and_its_upstream_mojibake_dash_as_written() {
    let Some(bytes) = fixture("webvtt/vttjs-spec-example.vtt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::WebVtt).unwrap();
    assert_eq!(
        outline(&doc),
        [section(
            "We are in New York City",
            "we-are-in-new-york-city",
            11_000,
            5
        )]
    );
    assert_eq!(
        paragraphs(&doc),
        [
            para(
                "We are in New York City We're actually at the Lucern Hotel, just down the street from the American Museum of Natural History And with me is Neil deGrasse Tyson Astrophysicist, Director of the Hayden Planetarium at the AMNH. Thank you for walking down here. And I want to do a follow-up on the last conversation we did. When we e-mailed\u{e2}\u{80}\u{94}",
                11_000,
                Some("Roger Bingham")
            ),
            para(
                "Didn't we talk about enough in that conversation?",
                30_500,
                Some("Neil deGrasse Tyson")
            ),
            para(
                "No! No no no no; 'cos 'cos obviously 'cos",
                32_000,
                Some("Roger Bingham")
            ),
            para("Laughs", 32_500, Some("Neil deGrasse Tyson")),
            para(
                "You know I'm so excited my glasses are falling off here.",
                35_500,
                Some("Roger Bingham")
            ),
        ]
    );
}

#[test]
fn wpt_arrows_are_refused_where_an_arrow_is_not_a_timing_line() {
    let Some(text) = fixture_text("webvtt/wpt-arrows.vtt") else {
        return;
    };
    assert_eq!(
        error_lines(text.as_bytes(), TranscriptFormat::WebVtt),
        [3, 6, 9, 12, 15, 21, 23, 25, 27]
    );
    let errors = vtt_refused(&text);
    assert_eq!(
        errors[1],
        "line 6: `foo-->` contains `-->` but is not a timing line; cue identifiers and text must not contain `-->`"
    );
    assert_eq!(
        errors[5],
        "line 21: expected `-->` after the start time `00:00:00.000`, found `-a -->`"
    );
    // Without the arrow lines, the six cues between them are all there.
    let kept: Vec<&str> = text
        .lines()
        .take(19)
        .enumerate()
        .filter(|(i, _)| ![2, 5, 8, 11, 14].contains(i))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(
        texts(&vtt(&kept.join("\n"))),
        ["text0 text1 text2 text3 text4 text5"]
    );
}

#[test]
fn wpt_entities_outside_the_common_set_stay_literal_text() {
    let Some(bytes) = fixture("webvtt/wpt-cue-entities.vtt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::WebVtt).unwrap();
    // `&nbsp;`, `&#32;` and `&#x20;` alone leave nothing to say; `&<` opens an unclosed tag.
    assert_eq!(
        paragraphs(&doc),
        [para(
            "& & & & < > a\u{200e}b a\u{200f}b \" © && &1 &1; & & &; &ClockwiseContourIntegral; &nsubE; &notin; &not; &not &notit;",
            0,
            None
        )]
    );
    assert_eq!(
        outline(&doc),
        [section("Part 1 (00:00)", "part-1-00-00", 0, 1)]
    );
}

#[test]
fn wpt_inline_timestamps_vanish_and_unclosed_ones_swallow_the_rest_of_the_cue() {
    let Some(bytes) = fixture("webvtt/wpt-cue-timestamps.vtt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::WebVtt).unwrap();
    assert_eq!(
        paragraphs(&doc),
        [para("testtest testtest testtest testtest", 6_000, None)]
    );
}

#[test]
fn wpt_tree_building_drops_ruby_text_by_the_specs_nesting_rules() {
    let Some(bytes) = fixture("webvtt/wpt-cue-tree-building.vtt") else {
        return;
    };
    assert_eq!(
        texts(&read(&bytes, TranscriptFormat::WebVtt).unwrap()),
        ["test test testtest testtest testtest test test test testtest"]
    );
}

#[test]
fn wpt_header_garbage_and_signature_edge_cases_are_read() {
    let Some(garbage) = fixture("webvtt/wpt-header-garbage.vtt") else {
        return;
    };
    assert_eq!(
        paragraphs(&read(&garbage, TranscriptFormat::WebVtt).unwrap()),
        [para("text", 0, None)]
    );
    for name in [
        "webvtt/wpt-signature-bom.vtt",
        "webvtt/wpt-signature-no-newline.vtt",
    ] {
        let Some(bytes) = fixture(name) else {
            return;
        };
        assert_eq!(
            read(&bytes, TranscriptFormat::WebVtt),
            Ok(Document {
                title: None,
                sections: vec![]
            }),
            "{name}"
        );
    }
}

#[test]
fn wpt_newlines_of_every_kind_separate_lines() {
    let Some(bytes) = fixture("webvtt/wpt-newlines.vtt") else {
        return;
    };
    assert_eq!(
        paragraphs(&read(&bytes, TranscriptFormat::WebVtt).unwrap()),
        [para("text0 text1 text2 text3", 0, None)]
    );
}

#[test]
fn wpt_nulls_become_replacement_characters_and_break_the_timing_lines_they_touch() {
    let Some(text) = fixture_text("webvtt/wpt-nulls.vtt") else {
        return;
    };
    let lines = error_lines(text.as_bytes(), TranscriptFormat::WebVtt);
    assert_eq!(lines, (27..=204).step_by(3).collect::<Vec<_>>());
    let errors = vtt_refused(&text);
    assert_eq!(
        errors[0],
        "line 27: expected `-->` after the start time `00:00:00.000`, found `\u{fffd} --> 00:00:01.000`"
    );
    assert_eq!(
        errors[9],
        "line 54: `00:00:0\u{fffd}0.000` is not a timestamp; expected hh:mm:ss.ttt"
    );
    // The first seven cues, NULs in header, identifier, text and settings, are fine.
    let valid: Vec<&str> = text.lines().take(25).collect();
    let doc = vtt(&valid.join("\n"));
    assert_eq!(
        paragraphs(&doc),
        [para(
            "text0 text1 \u{fffd}text\u{fffd}2 text3 text4 text5 text6",
            0,
            None
        )]
    );
}

#[test]
fn wpt_regions_and_settings_are_ignored() {
    let cases = [
        (
            "webvtt/wpt-regions-lines.vtt",
            "text text text text text text text text text text text text text",
        ),
        ("webvtt/wpt-settings-multiple.vtt", "text0 text1"),
        (
            "webvtt/wpt-settings-position.vtt",
            "text0 text1 text2 text3 text4 text5 text6 text7 invalid8 invalid9 invalid10 invalid11 invalid12 invalid13 invalid14 invalid15 invalid16 invalid17 invalid18 invalid19 invalid20 invalid21",
        ),
        ("webvtt/wpt-stylesheets.vtt", "text text"),
        ("webvtt/wpt-timings-omitted-hours.vtt", "text0 text1 text2"),
    ];
    for (name, expected) in cases {
        let Some(bytes) = fixture(name) else {
            return;
        };
        assert_eq!(
            paragraphs(&read(&bytes, TranscriptFormat::WebVtt).unwrap()),
            [para(expected, 0, None)],
            "{name}"
        );
    }
    let Some(line) = fixture("webvtt/wpt-settings-line.vtt") else {
        return;
    };
    let text = texts(&read(&line, TranscriptFormat::WebVtt).unwrap());
    assert_eq!(text.len(), 1);
    assert!(text[0].starts_with("valid0 valid1 ") && text[0].ends_with(" text44 text45"));
}

#[test]
fn wpt_settings_align_is_refused_for_its_10042_character_settings_line() {
    let Some(bytes) = fixture("webvtt/wpt-settings-align.vtt") else {
        return;
    };
    assert_eq!(
        refused(&bytes, TranscriptFormat::WebVtt),
        ["line 39: the line is 10042 characters long; lines may be at most 10000"]
    );
}

#[test]
fn wpt_timings_60_refuses_sixty_minutes_or_seconds_but_not_sixty_hours() {
    let Some(text) = fixture_text("webvtt/wpt-timings-60.vtt") else {
        return;
    };
    assert_eq!(
        vtt_refused(&text),
        [
            "line 3: `00:00:60.000` is not a timestamp: the seconds must be below 60",
            "line 6: `00:60:00.000` is not a timestamp: the minutes must be below 60",
            "line 9: `00:00:60.000` is not a timestamp: the seconds must be below 60",
            "line 12: `00:60:00.000` is not a timestamp: the minutes must be below 60",
        ]
    );
    let valid: Vec<&str> = text.lines().skip(13).collect();
    assert_eq!(
        paragraphs(&vtt(&format!("WEBVTT\n\n{}", valid.join("\n")))),
        [para("text1 text2", 0, None)]
    );
}

#[test]
fn wpt_timings_eof_is_truncated_inside_the_timing_line() {
    let Some(bytes) = fixture("webvtt/wpt-timings-eof.vtt") else {
        return;
    };
    assert_eq!(
        refused(&bytes, TranscriptFormat::WebVtt),
        ["line 3: the file ends inside a timing line (`00:00:00.000 -->`); it looks truncated"]
    );
}

#[test]
fn wpt_timings_garbage_refuses_every_malformed_timing_line() {
    let Some(bytes) = fixture("webvtt/wpt-timings-garbage.vtt") else {
        return;
    };
    assert_eq!(
        error_lines(&bytes, TranscriptFormat::WebVtt),
        (3..=189).step_by(3).collect::<Vec<_>>()
    );
    let errors = refused(&bytes, TranscriptFormat::WebVtt);
    for (i, expected) in [
        (
            0,
            "line 3: `x00:00:00.000` is not a timestamp; expected hh:mm:ss.ttt",
        ),
        (
            14,
            "line 45: `00:00:00.000 -x-> 00:00:01.000` is not a timing line: the start and end times must be separated by `-->`",
        ),
        (16, "line 51: `x` is not a timestamp; expected hh:mm:ss.ttt"),
        (
            60,
            "line 183: `00:00:00:000` is not a timestamp; expected hh:mm:ss.ttt",
        ),
        (
            62,
            "line 189: `00:00:00,000` is not a WebVTT timestamp: WebVTT puts `.` before the milliseconds, not `,`",
        ),
    ] {
        assert_eq!(errors[i], expected);
    }
}

#[test]
fn wpt_timings_negative_refuses_cues_that_end_before_they_start() {
    let Some(bytes) = fixture("webvtt/wpt-timings-negative.vtt") else {
        return;
    };
    assert_eq!(
        refused(&bytes, TranscriptFormat::WebVtt),
        [
            "line 6: the cue ends (00:00:00.999) before it starts (00:00:01.000)",
            "line 9: the cue ends (00:00:59.999) before it starts (00:01:00.000)",
            "line 12: the cue ends (00:59:59.999) before it starts (01:00:00.000)",
        ]
    );
}

#[test]
fn wpt_whitespace_allows_spaces_tabs_and_form_feeds_but_not_vertical_tabs() {
    let Some(text) = fixture_text("webvtt/wpt-whitespace-chars.vtt") else {
        return;
    };
    assert_eq!(
        vtt_refused(&text),
        [
            "line 16: `\\u{b}\\u{b}\\u{b}00:00:00.000\\u{b}\\u{b}\\u{b}\\u{b}` is not a timestamp; expected hh:mm:ss.ttt"
        ]
    );
    let valid: Vec<&str> = text.lines().take(13).collect();
    assert_eq!(
        paragraphs(&vtt(&valid.join("\n"))),
        [para("text0 text1 text2", 0, None)]
    );
}

#[test]
fn srt_html_entities_fixture_resolves_entities_and_keeps_inner_no_break_spaces() {
    let Some(bytes) = fixture("srt/astisub-example-in-html-entities.srt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::Srt).unwrap();
    assert_eq!(
        paragraphs(&doc),
        [para(
            "The man in black fled across the desert, & the gunslinger followed. Go,\u{a0}then, there are other < worlds than these.",
            331,
            None
        )]
    );
}

#[test]
fn srt_styled_fixture_strips_tags_and_splits_sections_at_long_pauses() {
    let Some(bytes) = fixture("srt/astisub-example-in-styled.srt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::Srt).unwrap();
    assert_eq!(
        outline(&doc),
        [
            section("Part 1 (00:17)", "part-1-00-17", 17_985, 1),
            section("Part 2 (00:47)", "part-2-00-47", 47_115, 2),
            section("Part 3 (01:26)", "part-3-01-26", 86_787, 1),
            section(
                "Test with multi line italics Terminated on the…",
                "test-with-multi-line-italics-terminated-on-the",
                480_000,
                1
            ),
            section("x^3 * x = 100", "x-3-x-100", 720_000, 1),
        ]
    );
    assert_eq!(
        texts(&doc),
        [
            "[instrumental music]",
            "[ticks]",
            "[instrumental music] [dog barking]",
            "[beeping] [automated] 'The time is 7:35.'",
            "Test with multi line italics Terminated on the next line Unterminated styles Do no fall to the next item",
            "x^3 * x = 100",
        ]
    );
}

/// The pysrt sample in every encoding: one speaker, short gaps, one long paragraph.
const PYSRT_TEXT: &str = "About 2 months ago I found myself on the comment section of YouTube And I was commenting, unfortunately I was commenting, on a video about the famous Ayn Rand And I posted underneath against this woman's tirades, against what is essentially the human race. that, this monetary system seems to have no point, seems to actually hinder people and hinder progress, and one of the responses I got, I didn't answer it, was: what actually money creates is an incentive to invent the new items, that's the driving force behind it So what I thought I do is instead if answering on a YouTube comment is organize a global awareness day";

#[test]
fn pysrt_byte_order_marks_of_every_kind_give_the_same_document() {
    for name in [
        "srt/pysrt-bom-utf-8.srt",
        "srt/pysrt-bom-utf-16-le.srt",
        "srt/pysrt-bom-utf-16-be.srt",
        "srt/pysrt-bom-utf-32-le.srt",
        "srt/pysrt-no-indexes.srt",
    ] {
        let Some(bytes) = fixture(name) else {
            return;
        };
        assert_eq!(detect(&bytes, None), Some(TranscriptFormat::Srt), "{name}");
        let doc = read(&bytes, TranscriptFormat::Srt).unwrap();
        assert_eq!(
            outline(&doc),
            [section(
                "About 2 months ago I found myself on…",
                "about-2-months-ago-i-found-myself-on",
                6_500,
                1
            )],
            "{name}"
        );
        assert_eq!(paragraphs(&doc), [para(PYSRT_TEXT, 6_500, None)], "{name}");
    }
}

#[test]
fn pysrt_empty_cues_are_skipped_and_the_silence_they_leave_starts_a_section() {
    let Some(bytes) = fixture("srt/pysrt-empty.srt") else {
        return;
    };
    let doc = read(&bytes, TranscriptFormat::Srt).unwrap();
    assert_eq!(
        outline(&doc),
        [
            section(
                "About 2 months ago I found myself on…",
                "about-2-months-ago-i-found-myself-on",
                6_500,
                1
            ),
            section(
                "and hinder progress, and one of the responses…",
                "and-hinder-progress-and-one-of-the-responses",
                31_000,
                1
            ),
        ]
    );
    assert!(texts(&doc)[0].ends_with("on a video about the famous Ayn Rand"));
}

#[test]
fn pysrt_invalid_is_accepted_because_whole_second_timestamps_are_unambiguous() {
    let Some(bytes) = fixture("srt/pysrt-invalid.srt") else {
        return;
    };
    assert_eq!(
        paragraphs(&read(&bytes, TranscriptFormat::Srt).unwrap()),
        [para("This subtitle is invalid", 1_000, None)]
    );
}

#[test]
fn pysrt_capability_tester_is_refused_for_simultaneous_positioned_cues() {
    let Some(text) = fixture_text("srt/pysrt-capability_tester.srt") else {
        return;
    };
    assert_eq!(
        error_lines(text.as_bytes(), TranscriptFormat::Srt),
        [74, 79, 89, 95, 105, 110, 123, 135, 148, 166]
    );
    assert_eq!(
        srt_refused(&text)[6],
        "line 123: the cue starts (00:00:33,500) 17 s before the cue at line 119 ends (00:00:50,500); cues may overlap by at most 1 s"
    );

    // Without the cues shown at the same time, the styling is what is left to check.
    let overlapping = ["12", "13", "15", "16", "18", "19", "21", "24", "28", "30"];
    let kept: Vec<&str> = text
        .split("\r\n\r\n")
        .filter(|block| {
            let number = block.trim_start_matches('\u{feff}').lines().next();
            !number.is_some_and(|n| overlapping.contains(&n))
        })
        .collect();
    let doc = srt(&kept.join("\r\n\r\n"));
    let all = texts(&doc).join("\n");
    for expected in [
        // Zero-length cues keep their words: nothing said is lost.
        "Don't show this text it may be used to insert hidden data SubRip subtitles",
        "Use VLC 1.1 or higher as reference for most things and MPC Home Cinema for others This text should be blue",
        "This should be an E with an accent: È 日本語 This text should be bold, italics and underline",
        "> It would be a good thing to hide invalid html tags that are closed",
        "Show not opened tags < and also hide",
        "also: 2<3,5>1,4<6 This shouldn't be underlined",
        "This text should be at the top and horizontally at the left",
        "This could be the most difficult thing to implement",
        "Hide these tags: also hide these tags: {Y:some_letters_or_numbers_or_chars} but show this: {normal text}",
        "05 hard spaces between letters: A\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}A",
        "Show this: \\TEST and this: \\-)",
        "not opened tag showed as text. Not opened tag showed as text.",
    ] {
        assert!(all.contains(expected), "{expected:?} not in {all:?}");
    }
    for absent in ["<font", "</", "{\\", "\\N", "\\h", "<b>", "<invalid_tag"] {
        assert!(!all.contains(absent), "{absent:?} left in {all:?}");
    }
    // Twice the paragraph length without a sentence end cuts the run of captions.
    assert_eq!(
        paragraphs(&doc).iter().map(|p| p.1).collect::<Vec<_>>(),
        [Some(0), Some(21_501), Some(62_501)]
    );
}

#[test]
fn every_fixture_is_detected_by_its_content_or_name() {
    let Some(dir) = fixtures() else {
        return;
    };
    for (folder, format) in [
        ("webvtt", TranscriptFormat::WebVtt),
        ("srt", TranscriptFormat::Srt),
    ] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(detect(&bytes, Some(&name)), Some(format), "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// A small deterministic generator, to keep the crate free of a `rand` dependency.
struct XorShift(u64);

impl XorShift {
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

fn parse_all_ways(bytes: &[u8]) {
    let tight = TranscriptOptions {
        chapters: vec![
            (0, "A".into()),
            (500, String::new()),
            (u64::MAX, "Z".into()),
        ],
        pause_ms: 0,
        max_paragraph_chars: 0,
        title: Some(String::new()),
    };
    for format in [TranscriptFormat::WebVtt, TranscriptFormat::Srt] {
        let _ = parse(bytes, format, &TranscriptOptions::default());
        let _ = parse(bytes, format, &tight);
    }
    let _ = detect(bytes, Some("x.vtt"));
}

#[test]
fn no_input_makes_it_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    if let Some(dir) = fixtures() {
        for folder in ["webvtt", "srt"] {
            for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
                inputs.push(std::fs::read(entry.unwrap().path()).unwrap());
            }
        }
    }
    inputs.push(SAMPLE.as_bytes().to_vec());
    inputs.push(b"1\r\n00:00:01,000 --> 00:00:02,000\r\n<b>Hi</b> {\\an8}\r\n".to_vec());

    // Random bytes.
    for _ in 0..300 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        parse_all_ways(&bytes);
    }
    // Soups of the tokens the parsers care about.
    let tokens: &[&str] = &[
        "WEBVTT",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "-->",
        "00:",
        "59:",
        "60",
        ".000",
        ",5",
        "1",
        "99999999999999999999",
        "NOTE ",
        "Chapter: ",
        "== ",
        "STYLE",
        "REGION",
        "<v ",
        "<v Ana>",
        "</v>",
        "<rt>",
        "<ruby>",
        "</ruby>",
        "<",
        ">",
        "&",
        "&amp",
        "&#",
        "&#x",
        ";",
        "{\\an8}",
        "\\N",
        "\\h",
        "- ",
        "NAME: ",
        "Bob:",
        "\0",
        "é",
        "漢",
        "\u{feff}",
        "-",
        ":",
    ];
    for _ in 0..2_000 {
        let mut text = String::new();
        if rng.below(2) == 0 {
            text.push_str("WEBVTT\n\n");
        }
        for _ in 0..rng.below(40) {
            text.push_str(tokens[rng.below(tokens.len())]);
        }
        parse_all_ways(text.as_bytes());
    }
    // Every fixture whole, cut short and with bytes flipped.
    for input in &inputs {
        parse_all_ways(input);
        for _ in 0..30 {
            let mut mutated = input.clone();
            if !mutated.is_empty() {
                mutated.truncate(rng.below(mutated.len() + 1));
            }
            for _ in 0..rng.below(4) {
                if !mutated.is_empty() {
                    let at = rng.below(mutated.len());
                    mutated[at] = rng.next() as u8;
                }
            }
            parse_all_ways(&mutated);
        }
    }
}
