//! Text as citizens type it, made uniform before it is validated and stored: Unicode NFC,
//! full-width letters and digits (ＡＢＣ１２３) to half-width, the ideographic space to a space,
//! zero-width characters removed, runs of spaces collapsed, line ends unified. Chinese full-width
//! punctuation (，。？) is the norm in Chinese text and is kept.

use unicode_normalization::UnicodeNormalization;

fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Full-width ASCII (U+FF01–U+FF5E) to its half-width form; `all` also converts punctuation.
fn half_width(c: char, all: bool) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => {
            let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            if all || ascii.is_ascii_alphanumeric() {
                ascii
            } else {
                c
            }
        }
        _ => c,
    }
}

/// Free text (titles, descriptions, addresses, names): keeps line breaks, collapses other runs
/// of white space, trims.
pub fn text(s: &str) -> String {
    let unified = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unified.len());
    for line in unified
        .nfc()
        .filter(|c| !is_zero_width(*c))
        .map(|c| half_width(c, false))
        .collect::<String>()
        .split('\n')
    {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&collapsed);
        out.push('\n');
    }
    // At most one empty line between paragraphs.
    let mut result = String::with_capacity(out.len());
    let mut blank = 0;
    for line in out.split('\n') {
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        result.push_str(line);
        result.push('\n');
    }
    result.trim().to_owned()
}

/// Codes (phone numbers, ID numbers, keys): every full-width character to half-width, NFC, no
/// zero-width characters, trimmed.
pub fn code(s: &str) -> String {
    s.nfc()
        .filter(|c| !is_zero_width(*c))
        .map(|c| half_width(c, true))
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizens_text_is_made_uniform() {
        assert_eq!(text("  路灯　不亮 ，ＡＢＣ１２３  "), "路灯 不亮 ，ABC123");
        assert_eq!(
            text("第一段\r\n\r\n\r\n\r\n第二段\u{200B}"),
            "第一段\n\n第二段"
        );
        assert_eq!(text("e\u{0301}"), "\u{e9}", "NFC");
        assert_eq!(code("１３８－００１３－８０００"), "138-0013-8000");
        assert_eq!(
            code("１１０１０５１９４９１２３１００２ｘ"),
            "11010519491231002x"
        );
    }
}
