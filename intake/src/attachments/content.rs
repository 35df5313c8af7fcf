//! What an uploaded file is, judged by its bytes (never its name or the type the client claims);
//! the GPS position a photo carries; and the photo as it is stored, with its metadata removed
//! without re-encoding a pixel.
//!
//! Removed: JPEG APP1 (EXIF, XMP), APP3–APP13 and APP15 (vendor data, Photoshop/IPTC), APP2 other
//! than the ICC profile (MPF), comments, and everything after the main image's end (MPF pictures,
//! motion-photo videos, vendor trailers, each of which may carry its own EXIF); PNG `eXIf`, text
//! chunks (`tEXt`, `zTXt`, `iTXt`: XMP, raw EXIF profiles) and `tIME`; WebP `EXIF` and `XMP `.
//! Kept: what decoding needs (JFIF, the ICC profile, Adobe's colour transform). A JPEG's
//! orientation is written back as an EXIF block holding that one tag, so a photo taken sideways is
//! still shown upright; nothing else of its EXIF survives.

use actix_web::web::Bytes;
use img_parts::ImageEXIF;
use img_parts::png::Png;
use img_parts::webp::WebP;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::IntakeError;

/// At most this many bytes per file (10 MiB).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// What the refusal of an unrecognised file says.
pub const NOT_SUPPORTED: &str =
    "not a JPEG, PNG or WebP photo or a supported audio file (MP3, WAV, OGG, AMR, M4A/AAC, FLAC)";

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    Photo,
    Audio,
}

type Matcher = fn(&[u8]) -> bool;

/// The accepted formats, recognised by their magic numbers, with the content type stored.
const FORMATS: &[(Matcher, Kind, &str)] = &[
    (infer::image::is_jpeg, Kind::Photo, "image/jpeg"),
    (infer::image::is_png, Kind::Photo, "image/png"),
    (is_webp, Kind::Photo, "image/webp"),
    (infer::audio::is_mp3, Kind::Audio, "audio/mpeg"),
    (infer::audio::is_wav, Kind::Audio, "audio/wav"),
    (infer::audio::is_ogg, Kind::Audio, "audio/ogg"),
    (infer::audio::is_amr, Kind::Audio, "audio/amr"),
    (infer::audio::is_m4a, Kind::Audio, "audio/mp4"),
    (infer::audio::is_aac, Kind::Audio, "audio/aac"),
    (infer::audio::is_flac, Kind::Audio, "audio/flac"),
];

/// infer's WebP test looks only at bytes 8–11; a WebP file is a RIFF container.
fn is_webp(b: &[u8]) -> bool {
    b.starts_with(b"RIFF") && infer::image::is_webp(b)
}

/// The kind and content type of a file, from its first bytes.
pub fn recognise(bytes: &[u8]) -> Option<(Kind, &'static str)> {
    FORMATS
        .iter()
        .find(|(matches, _, _)| matches(bytes))
        .map(|&(_, kind, content_type)| (kind, content_type))
}

/// A file as it will be stored.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub kind: Kind,
    pub content_type: &'static str,
    /// The bytes to store: for photos, without their metadata.
    pub bytes: Bytes,
    /// Where a photo was taken (WGS 84 latitude, longitude), from its EXIF GPS tags.
    pub gps: Option<(f64, f64)>,
}

/// Recognises a file, reads a photo's GPS position and removes its metadata. `field` names the
/// upload in refusals.
pub fn inspect(bytes: Bytes, field: &str) -> Result<Inspected, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::invalid(field, "the file is empty"));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(IntakeError::invalid(
            field,
            format!("a file may be at most 10 MiB ({MAX_FILE_BYTES} bytes)"),
        ));
    }
    let (kind, content_type) =
        recognise(&bytes).ok_or_else(|| IntakeError::invalid(field, NOT_SUPPORTED))?;
    let damaged = || {
        IntakeError::invalid(
            field,
            format!("the {content_type} image is damaged or incomplete"),
        )
    };
    let (bytes, exif) = match content_type {
        "image/jpeg" => strip_jpeg(&bytes).ok_or_else(damaged)?,
        "image/png" => strip_png(bytes).ok_or_else(damaged)?,
        "image/webp" => strip_webp(bytes).ok_or_else(damaged)?,
        _ => (bytes, None),
    };
    Ok(Inspected {
        kind,
        content_type,
        bytes,
        gps: exif.as_deref().and_then(gps_position),
    })
}

// ---- EXIF ---------------------------------------------------------------------------------------

fn degrees(exif: &exif::Exif, value: exif::Tag, reference: exif::Tag) -> Option<f64> {
    let exif::Value::Rational(parts) = &exif.get_field(value, exif::In::PRIMARY)?.value else {
        return None;
    };
    let [d, m, s] = parts.as_slice() else {
        return None;
    };
    let part = |r: &exif::Rational| (r.denom != 0).then(|| r.to_f64());
    let magnitude = part(d)? + part(m)? / 60.0 + part(s)? / 3600.0;
    let exif::Value::Ascii(refs) = &exif.get_field(reference, exif::In::PRIMARY)?.value else {
        return None;
    };
    match refs.first()?.first()? {
        b'N' | b'E' => Some(magnitude),
        b'S' | b'W' => Some(-magnitude),
        _ => None,
    }
}

/// The position in a photo's EXIF (the TIFF structure), when it has a plausible one. A missing
/// hemisphere, an out-of-range value and exactly (0, 0) (what some phones write without a fix)
/// count as none.
pub fn gps_position(tiff: &[u8]) -> Option<(f64, f64)> {
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let lat = degrees(&exif, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef)?;
    let lon = degrees(&exif, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef)?;
    let plausible = lat.is_finite()
        && lon.is_finite()
        && lat.abs() <= 90.0
        && lon.abs() <= 180.0
        && (lat, lon) != (0.0, 0.0);
    plausible.then_some((lat, lon))
}

/// The EXIF orientation (1–8), when the photo has one.
fn orientation(tiff: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let o = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)?;
    u16::try_from(o).ok().filter(|o| (1..=8).contains(o))
}

/// An EXIF block (big-endian TIFF) with the orientation tag only.
fn orientation_only(o: u16) -> Vec<u8> {
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // header, first IFD at offset 8
    t.extend_from_slice(&1u16.to_be_bytes()); // one entry
    t.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_be_bytes()); // one value
    t.extend_from_slice(&o.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    t
}

// ---- JPEG ---------------------------------------------------------------------------------------

const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// Whether a JPEG marker segment is kept: what decoding needs, never metadata.
fn keep_jpeg_segment(marker: u8, contents: &[u8]) -> bool {
    match marker {
        0xE0 | 0xEE => true,                            // APP0 JFIF, APP14 Adobe
        0xE2 => contents.starts_with(b"ICC_PROFILE\0"), // APP2: the ICC profile, not MPF
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,      // other APPn, COM
        _ => true,                                      // frame, tables, scans
    }
}

/// The JPEG without its metadata, and its first EXIF block (TIFF), or None when the file is not
/// a whole JPEG. The main image ends at its EOI: whatever follows is dropped.
fn strip_jpeg(data: &[u8]) -> Option<(Bytes, Option<Vec<u8>>)> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut exif: Option<Vec<u8>> = None;
    let (mut frame, mut scan) = (false, false);
    let mut exif_at = 2; // where an orientation block goes: after SOI, or after JFIF
    let mut pos = 2;
    loop {
        // A marker, possibly after fill bytes.
        if *data.get(pos)? != 0xFF {
            return None;
        }
        while *data.get(pos + 1)? == 0xFF {
            pos += 1;
        }
        let marker = data[pos + 1];
        pos += 2;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            0x00 | 0xD8 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*data.get(pos)?, *data.get(pos + 1)?]));
        if len < 2 || pos + len > data.len() {
            return None;
        }
        let contents = &data[pos + 2..pos + len];
        if marker == 0xE1
            && exif.is_none()
            && let Some(tiff) = contents.strip_prefix(EXIF_PREFIX)
        {
            exif = Some(tiff.to_vec());
        }
        if keep_jpeg_segment(marker, contents) {
            out.extend_from_slice(&data[pos - 2..pos + len]);
            if marker == 0xE0 && exif_at == 2 && out.len() == 4 + len {
                exif_at = out.len();
            }
        }
        pos += len;
        frame |= matches!(marker, 0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC));
        if marker == 0xDA {
            if !frame {
                return None;
            }
            scan = true;
            // Entropy-coded data runs to the next marker that is not a stuffed byte or a restart.
            let start = pos;
            loop {
                let ff = pos + data.get(pos..)?.iter().position(|&b| b == 0xFF)?;
                match *data.get(ff + 1)? {
                    0x00 | 0xD0..=0xD7 => pos = ff + 2,
                    _ => {
                        pos = ff;
                        break;
                    }
                }
            }
            out.extend_from_slice(&data[start..pos]);
        }
    }
    if !scan {
        return None;
    }
    if let Some(o) = exif.as_deref().and_then(orientation).filter(|&o| o != 1) {
        let block = orientation_only(o);
        let mut segment = Vec::with_capacity(4 + EXIF_PREFIX.len() + block.len());
        segment.extend_from_slice(&[0xFF, 0xE1]);
        let len = u16::try_from(2 + EXIF_PREFIX.len() + block.len()).ok()?;
        segment.extend_from_slice(&len.to_be_bytes());
        segment.extend_from_slice(EXIF_PREFIX);
        segment.extend_from_slice(&block);
        out.splice(exif_at..exif_at, segment);
    }
    Some((Bytes::from(out), exif))
}

// ---- PNG and WebP -------------------------------------------------------------------------------

fn strip_png(data: Bytes) -> Option<(Bytes, Option<Vec<u8>>)> {
    let mut png = Png::from_bytes(data).ok()?;
    let chunks = png.chunks();
    let whole = chunks.first().is_some_and(|c| &c.kind() == b"IHDR")
        && chunks.last().is_some_and(|c| &c.kind() == b"IEND")
        && chunks.iter().any(|c| &c.kind() == b"IDAT")
        && png.dimensions().is_some();
    if !whole {
        return None;
    }
    let exif = png.exif().map(|b| b.to_vec());
    png.set_exif(None);
    png.chunks_mut()
        .retain(|c| !matches!(&c.kind(), b"tEXt" | b"zTXt" | b"iTXt" | b"tIME" | b"eXIf"));
    Some((png.encoder().bytes(), exif))
}

fn strip_webp(data: Bytes) -> Option<(Bytes, Option<Vec<u8>>)> {
    let mut webp = WebP::from_bytes(data).ok()?;
    let image = webp
        .chunks()
        .iter()
        .any(|c| matches!(&c.id(), b"VP8 " | b"VP8L" | b"ANIM"));
    if !image || webp.dimensions().is_none() {
        return None;
    }
    let exif = webp.exif().map(|b| b.to_vec());
    webp.remove_chunks_by_id(*b"XMP ");
    // Also clears the EXIF flag of the extended header (VP8X); the XMP flag is cleared here.
    webp.set_exif(None);
    for chunk in webp.chunks_mut().iter_mut().filter(|c| &c.id() == b"VP8X") {
        if let img_parts::riff::RiffContent::Data(data) = chunk.content_mut()
            && let Some(flags) = data.first()
        {
            let mut header = data.to_vec();
            header[0] = flags & !0b0000_0100;
            *data = Bytes::from(header);
        }
    }
    Some((webp.encoder().bytes(), exif))
}

#[cfg(test)]
#[path = "content_tests.rs"]
mod tests;
