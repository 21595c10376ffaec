//! Bytes to text and back, as pip's `auto_decode` reads requirements files: a BOM wins, then a
//! PEP 263 `coding:` comment on one of the first two lines, then UTF-8. Encoding an edited text
//! gives back the same BOM and encoding, so a fixer changes only the bytes it edits.

use super::ReqFile;

/// How a requirements file's bytes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 with a BOM (`EF BB BF`).
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
    /// Declared by a `coding: latin-1` (or `iso-8859-1`, ...) comment.
    Latin1,
    /// Declared by a `coding: ascii` comment.
    Ascii,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not valid UTF-8 (byte {offset}) and no BOM or coding comment says otherwise")]
    NotUtf8 { offset: usize },
    #[error("not valid {encoding:?} (byte {offset})")]
    Malformed { encoding: Encoding, offset: usize },
    #[error("the coding comment names `{name}`, which is not supported (UTF-8, Latin-1, ASCII)")]
    UnsupportedEncoding { name: String },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{ch:?} at byte {offset} cannot be written in {encoding:?}")]
    Unrepresentable {
        encoding: Encoding,
        ch: char,
        offset: usize,
    },
}

const BOMS: &[(&[u8], Encoding)] = &[
    // UTF-32 first: its little-endian BOM starts with UTF-16's.
    (&[0xFF, 0xFE, 0x00, 0x00], Encoding::Utf32Le),
    (&[0x00, 0x00, 0xFE, 0xFF], Encoding::Utf32Be),
    (&[0xEF, 0xBB, 0xBF], Encoding::Utf8Bom),
    (&[0xFF, 0xFE], Encoding::Utf16Le),
    (&[0xFE, 0xFF], Encoding::Utf16Be),
];

impl Encoding {
    /// The BOM written before the text.
    pub fn bom(self) -> &'static [u8] {
        BOMS.iter()
            .find(|(_, encoding)| *encoding == self)
            .map_or(&[], |(bom, _)| bom)
    }

    /// Detects the encoding of `bytes` and decodes them (the BOM is not part of the text).
    pub fn decode(bytes: &[u8]) -> Result<(Encoding, String), DecodeError> {
        if let Some((bom, encoding)) = BOMS.iter().find(|(bom, _)| bytes.starts_with(bom)) {
            let text = decode_as(*encoding, &bytes[bom.len()..], bom.len())?;
            return Ok((*encoding, text));
        }
        let encoding = match declared_coding(bytes) {
            Some(name) => coding_by_name(&name)?,
            None => Encoding::Utf8,
        };
        let text = decode_as(encoding, bytes, 0)?;
        Ok((encoding, text))
    }

    /// `text` encoded, BOM included.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, EncodeError> {
        let mut out = self.bom().to_vec();
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => out.extend_from_slice(text.as_bytes()),
            Encoding::Utf16Le => out.extend(text.encode_utf16().flat_map(u16::to_le_bytes)),
            Encoding::Utf16Be => out.extend(text.encode_utf16().flat_map(u16::to_be_bytes)),
            Encoding::Utf32Le => out.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes())),
            Encoding::Utf32Be => out.extend(text.chars().flat_map(|c| (c as u32).to_be_bytes())),
            Encoding::Latin1 | Encoding::Ascii => {
                let max = if self == Encoding::Latin1 { 0xFF } else { 0x7F };
                for (offset, ch) in text.char_indices() {
                    if ch as u32 > max {
                        return Err(EncodeError::Unrepresentable {
                            encoding: self,
                            ch,
                            offset,
                        });
                    }
                    out.push(ch as u8);
                }
            }
        }
        Ok(out)
    }
}

fn decode_as(encoding: Encoding, bytes: &[u8], base: usize) -> Result<String, DecodeError> {
    let malformed = |offset: usize| DecodeError::Malformed {
        encoding,
        offset: base + offset,
    };
    match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(err) if encoding == Encoding::Utf8 => Err(DecodeError::NotUtf8 {
                offset: base + err.valid_up_to(),
            }),
            Err(err) => Err(malformed(err.valid_up_to())),
        },
        Encoding::Utf16Le | Encoding::Utf16Be => {
            if !bytes.len().is_multiple_of(2) {
                return Err(malformed(bytes.len() - 1));
            }
            let units = bytes.chunks_exact(2).map(|pair| {
                let pair = [pair[0], pair[1]];
                if encoding == Encoding::Utf16Le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            });
            let mut text = String::with_capacity(bytes.len() / 2);
            for (index, unit) in char::decode_utf16(units).enumerate() {
                text.push(unit.map_err(|_| malformed(index * 2))?);
            }
            Ok(text)
        }
        Encoding::Utf32Le | Encoding::Utf32Be => {
            if !bytes.len().is_multiple_of(4) {
                return Err(malformed(bytes.len() - bytes.len() % 4));
            }
            bytes
                .chunks_exact(4)
                .enumerate()
                .map(|(index, quad)| {
                    let quad = [quad[0], quad[1], quad[2], quad[3]];
                    let value = if encoding == Encoding::Utf32Le {
                        u32::from_le_bytes(quad)
                    } else {
                        u32::from_be_bytes(quad)
                    };
                    char::from_u32(value).ok_or_else(|| malformed(index * 4))
                })
                .collect()
        }
        Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
        Encoding::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
            Some(offset) => Err(malformed(offset)),
            None => Ok(bytes.iter().map(|&b| b as char).collect()),
        },
    }
}

/// pip's check: one of the first two lines starts with `#` and has `coding[:=]\s*([-\w.]+)`.
fn declared_coding(bytes: &[u8]) -> Option<String> {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        if line.first() != Some(&b'#') {
            continue;
        }
        // `re.search`: the first `coding` that is followed by `:` or `=` and a name.
        for at in (0..line.len().saturating_sub(5)).filter(|&i| line[i..].starts_with(b"coding")) {
            let rest = &line[at + 6..];
            if !matches!(rest.first(), Some(b':' | b'=')) {
                continue;
            }
            let rest = &rest[1..];
            let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let name: Vec<u8> = rest[skip..]
                .iter()
                .copied()
                .take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                .collect();
            if !name.is_empty() {
                return Some(String::from_utf8_lossy(&name).into_owned());
            }
        }
    }
    None
}

/// Python's codec lookup, for the names this crate can decode.
fn coding_by_name(name: &str) -> Result<Encoding, DecodeError> {
    let normalized = name.to_ascii_lowercase().replace('-', "_");
    match normalized.as_str() {
        "utf_8" | "utf8" | "u8" | "utf" | "cp65001" => Ok(Encoding::Utf8),
        "latin_1" | "latin1" | "latin" | "l1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819"
        | "iso_ir_100" => Ok(Encoding::Latin1),
        "ascii" | "us_ascii" | "646" => Ok(Encoding::Ascii),
        _ => Err(DecodeError::UnsupportedEncoding {
            name: name.to_string(),
        }),
    }
}

/// A requirements file read from bytes: its encoding, its text and the parse of that text.
/// Ranges in [`Document::file`] index [`Document::text`], which excludes the BOM.
#[derive(Clone, Debug)]
pub struct Document {
    pub encoding: Encoding,
    pub text: String,
    pub file: ReqFile,
}

impl Document {
    pub fn from_bytes(bytes: &[u8]) -> Result<Document, DecodeError> {
        let (encoding, text) = Encoding::decode(bytes)?;
        Ok(Document::from_text(encoding, text))
    }

    /// A document for text already decoded (a [`crate::source::SourceFile`]'s text, whose BOM
    /// is removed: pass [`Encoding::Utf8Bom`] to write it back).
    pub fn from_text(encoding: Encoding, text: String) -> Document {
        let file = super::parse(&text);
        Document {
            encoding,
            text,
            file,
        }
    }

    /// The file's bytes, rebuilt from the parsed structure.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        self.encoding.encode(&self.file.emit(&self.text))
    }

    /// `new_text` (the text after edits) as bytes in this document's encoding, BOM included.
    pub fn encode(&self, new_text: &str) -> Result<Vec<u8>, EncodeError> {
        self.encoding.encode(new_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let text = "# é\r\nnumpy==1.0 \\\n  --hash=sha256:ab\rlast";
        for encoding in [
            Encoding::Utf8,
            Encoding::Utf8Bom,
            Encoding::Utf16Le,
            Encoding::Utf16Be,
            Encoding::Utf32Le,
            Encoding::Utf32Be,
        ] {
            let bytes = encoding.encode(text).unwrap();
            let document = Document::from_bytes(&bytes).unwrap();
            assert_eq!(document.encoding, encoding);
            assert_eq!(document.text, text);
            assert_eq!(document.to_bytes().unwrap(), bytes, "{encoding:?}");
        }
    }

    #[test]
    fn honours_a_pep_263_coding_comment() {
        assert_eq!(
            declared_coding(b"# encoding of this file, coding=latin-1\n").as_deref(),
            Some("latin-1")
        );
        let bytes = b"# -*- coding: latin-1 -*-\ncaf\xe9==1.0\n";
        let document = Document::from_bytes(bytes).unwrap();
        assert_eq!(document.encoding, Encoding::Latin1);
        assert!(document.text.contains("café"));
        assert_eq!(document.to_bytes().unwrap(), bytes);
        assert!(matches!(
            Document::from_bytes(b"#\n# coding=koi8-r\nx\n"),
            Err(DecodeError::UnsupportedEncoding { .. })
        ));
        // The comment must start the line, as pip checks `line[0:1] == b"#"`.
        assert!(matches!(
            Document::from_bytes(b" # coding: latin-1\ncaf\xe9\n"),
            Err(DecodeError::NotUtf8 { offset: 22 })
        ));
    }

    #[test]
    fn refuses_what_cannot_be_written_back() {
        assert!(Encoding::Latin1.encode("€").is_err());
        assert!(Encoding::Ascii.encode("é").is_err());
        assert_eq!(
            Document::from_bytes(&[0xFF, 0xFE, 0x00]).unwrap_err(),
            DecodeError::Malformed {
                encoding: Encoding::Utf16Le,
                offset: 2
            }
        );
    }
}
