#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fixtures are made by `tests/fixtures/attachments/make.py` (see the README there).

use img_parts::jpeg::Jpeg;
use proptest::prelude::*;

use super::*;

const JPEG: &[u8] = include_bytes!("../../../tests/fixtures/attachments/photo-gps.jpg");
const PROGRESSIVE: &[u8] = include_bytes!("../../../tests/fixtures/attachments/progressive.jpg");
const PNG: &[u8] = include_bytes!("../../../tests/fixtures/attachments/photo-gps.png");
const WEBP: &[u8] = include_bytes!("../../../tests/fixtures/attachments/photo-gps.webp");

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn inspect_ok(bytes: &[u8]) -> Inspected {
    inspect(Bytes::copy_from_slice(bytes), "photo").unwrap()
}

fn refusal(bytes: &[u8]) -> String {
    match inspect(Bytes::copy_from_slice(bytes), "photo") {
        Err(IntakeError::Invalid { field, reason }) => {
            assert_eq!(field, "photo");
            reason
        }
        other => panic!("{other:?}"),
    }
}

fn close(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
}

/// The scan data (entropy-coded bytes) of a JPEG: everything from the first SOS to the EOI.
fn scans(jpeg: &[u8]) -> &[u8] {
    let start = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let end = start
        + jpeg[start..]
            .windows(2)
            .position(|w| w == [0xFF, 0xD9])
            .unwrap();
    &jpeg[start..end + 2]
}

#[test]
fn formats_are_recognised_by_their_bytes() {
    let wav = b"RIFF\x24\0\0\0WAVEfmt ";
    type Case<'a> = (&'a [u8], Option<(Kind, &'a str)>);
    let cases: &[Case<'_>] = &[
        (JPEG, Some((Kind::Photo, "image/jpeg"))),
        (PNG, Some((Kind::Photo, "image/png"))),
        (WEBP, Some((Kind::Photo, "image/webp"))),
        (wav, Some((Kind::Audio, "audio/wav"))),
        (b"ID3\x04\0\0\0\0\0\0", Some((Kind::Audio, "audio/mpeg"))),
        (b"OggS\0\x02\0\0\0\0\0\0", Some((Kind::Audio, "audio/ogg"))),
        (
            b"#!AMR\n\x3c\x00\x00\x00\x00\x00",
            Some((Kind::Audio, "audio/amr")),
        ),
        (
            b"\0\0\0\x20ftypM4A \0\0\0\0",
            Some((Kind::Audio, "audio/mp4")),
        ),
        (b"fLaC\0\0\0\x22", Some((Kind::Audio, "audio/flac"))),
        (b"\xff\xf1\x50\x80", Some((Kind::Audio, "audio/aac"))),
        // A text file named photo.jpg, a GIF, a PDF, a WebP-looking WAV header: none.
        (b"this is not a photo.jpg", None),
        (b"GIF89a\x01\0\x01\0", None),
        (b"%PDF-1.7\n", None),
        (b"XXXX\0\0\0\0WEBPVP8 ", None),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            recognise(bytes),
            *expected,
            "{:?}",
            &bytes[..bytes.len().min(12)]
        );
    }
    assert!(refusal(b"this is not a photo.jpg").contains("not a JPEG, PNG or WebP photo"));
}

#[test]
fn empty_and_oversized_files_are_refused() {
    assert_eq!(refusal(b""), "the file is empty");
    let mut big = JPEG.to_vec();
    big.resize(MAX_FILE_BYTES + 1, 0);
    assert!(refusal(&big).contains("at most 10 MiB"));
}

#[test]
fn jpeg_gps_is_read_and_metadata_removed_without_reencoding() {
    let out = inspect_ok(JPEG);
    assert_eq!((out.kind, out.content_type), (Kind::Photo, "image/jpeg"));
    let expected = (
        28.0 + 13.0 / 60.0 + 30.6 / 3600.0,
        112.0 + 56.0 / 60.0 + 24.0 / 3600.0,
    );
    assert!(close(out.gps.unwrap(), expected), "{:?}", out.gps);
    let b = &out.bytes[..];
    assert!(b.starts_with(&[0xFF, 0xD8, 0xFF]) && b.ends_with(&[0xFF, 0xD9]));
    // No XMP, comment, camera, time or GPS; the picture appended after the image is gone.
    for gone in [
        &b"http://ns.adobe.com"[..],
        b"13800138000",
        b"HotlineCam",
        b"2026:11:20",
    ] {
        assert!(
            !find(b, gone),
            "{:?} survived",
            String::from_utf8_lossy(gone)
        );
    }
    assert_eq!(b.windows(2).filter(|w| *w == [0xFF, 0xD8]).count(), 1);
    // The only EXIF left holds the orientation (6: shown rotated), nothing else.
    let parsed = Jpeg::from_bytes(out.bytes.clone()).unwrap();
    let tiff = img_parts::ImageEXIF::exif(&parsed).unwrap();
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).unwrap();
    let fields: Vec<_> = exif
        .fields()
        .map(|f| (f.tag, f.value.get_uint(0)))
        .collect();
    assert_eq!(fields, vec![(exif::Tag::Orientation, Some(6))]);
    assert_eq!(gps_position(&tiff), None);
    // Tables, frame and scan data are the original bytes.
    assert_eq!(scans(b), scans(JPEG));
    assert!(parsed.dimensions() == Some((64, 48)));
}

#[test]
fn a_jpeg_without_metadata_is_stored_as_it_came() {
    let out = inspect_ok(PROGRESSIVE);
    assert_eq!(out.gps, None);
    assert_eq!(&out.bytes[..], PROGRESSIVE);
}

#[test]
fn png_gps_is_read_and_metadata_removed() {
    let out = inspect_ok(PNG);
    assert_eq!(out.content_type, "image/png");
    assert!(close(
        out.gps.unwrap(),
        (22.0 + 32.0 / 60.0, 114.0 + 3.0 / 60.0)
    ));
    let png = Png::from_bytes(out.bytes.clone()).unwrap();
    let kinds: Vec<[u8; 4]> = png.chunks().iter().map(|c| c.kind()).collect();
    assert!(
        !kinds
            .iter()
            .any(|k| matches!(k, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt")),
        "{kinds:?}"
    );
    assert!(!find(&out.bytes, b"13800138000"));
    let idat = |p: &Png| -> Vec<u8> {
        p.chunks_by_type(*b"IDAT")
            .flat_map(|c| c.contents().to_vec())
            .collect()
    };
    assert_eq!(
        idat(&png),
        idat(&Png::from_bytes(Bytes::from_static(PNG)).unwrap())
    );
}

#[test]
fn webp_gps_is_read_and_metadata_removed() {
    let out = inspect_ok(WEBP);
    assert_eq!(out.content_type, "image/webp");
    assert!(close(out.gps.unwrap(), (30.0, 120.0)));
    let webp = WebP::from_bytes(out.bytes.clone()).unwrap();
    let ids: Vec<[u8; 4]> = webp.chunks().iter().map(|c| c.id()).collect();
    assert!(
        !ids.iter().any(|i| matches!(i, b"EXIF" | b"XMP ")),
        "{ids:?}"
    );
    if let Some(vp8x) = webp.chunk_by_id(*b"VP8X") {
        let flags = vp8x.content().data().unwrap()[0];
        assert_eq!(flags & 0b0000_1100, 0, "EXIF/XMP flags still set");
    }
    assert_eq!(webp.dimensions(), Some((32, 24)));
    assert!(!find(&out.bytes, b"HotlineCam") && !find(&out.bytes, b"adobe"));
}

#[test]
fn damaged_images_are_refused() {
    for bytes in [
        &JPEG[..JPEG.len() / 3],
        &JPEG[..400],
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"\xff\xd8\xff\xd9\0\0\0\0",
        &PNG[..PNG.len() - 20],
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
        &WEBP[..30],
        b"RIFF\x04\0\0\0WEBP",
    ] {
        let reason = refusal(bytes);
        assert!(reason.contains("damaged"), "{reason}");
    }
}

#[test]
fn implausible_gps_counts_as_none() {
    let block = orientation_only(1);
    assert_eq!(gps_position(&block), None);
    assert_eq!(gps_position(b"garbage"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Cut or corrupted files are refused or cleaned, never a panic.
    #[test]
    fn corrupt_files_never_panic(
        which in 0usize..4,
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let original = [JPEG, PROGRESSIVE, PNG, WEBP][which];
        let mut bytes = original.to_vec();
        for (at, b) in flips {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = b;
        }
        bytes.truncate(((bytes.len() as f64) * cut) as usize + 1);
        let _ = inspect(Bytes::from(bytes), "photo");
    }
}
