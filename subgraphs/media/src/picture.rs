//! An uploaded file, parsed into a [`Picture`] as it will be served, or refused with the
//! reason a person understands.
//!
//! The type is decided by the bytes (`image::guess_format`), never by the file's name or
//! its part's `Content-Type`. The dimensions are read from the header before anything is
//! decoded, so a decompression bomb (a small file declaring a huge image) is refused
//! without allocating its pixels; then the whole image is decoded, so a truncated or
//! damaged file is refused too. What is served carries no metadata: JPEG's APP1 (EXIF,
//! XMP), APP13 (IPTC) and comments, PNG's text, `eXIf` and `tIME` chunks, WebP's `EXIF`
//! and `XMP ` chunks are dropped without touching the pixels (`img-parts`), and a GIF is
//! rewritten frame by frame without its comments and application blocks (loop count
//! kept). A JPEG or WebP whose EXIF orientation is not upright is re-encoded with the
//! orientation applied to its pixels, so the width and height are as displayed.

use bytes::Bytes;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use img_parts::ImageEXIF;
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// Most pixels an image may have (width × height).
pub const MAX_PIXELS: u64 = 40_000_000;

/// What the served file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
    Gif,
}

/// Every format a picture may be stored in.
pub const FORMATS: [Format; 4] = [Format::Jpeg, Format::Png, Format::WebP, Format::Gif];

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::WebP => "image/webp",
            Format::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::WebP => "webp",
            Format::Gif => "gif",
        }
    }

    /// The format of a stored object's key (`<sha256>.<ext>`).
    pub fn of_extension(ext: &str) -> Option<Format> {
        FORMATS.into_iter().find(|f| f.extension() == ext)
    }

    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::WebP => "WebP",
            Format::Gif => "GIF",
        }
    }

    fn image(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::WebP => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }
}

/// An image as it is served: validated, without metadata, upright.
#[derive(Clone, Debug)]
pub struct Picture {
    pub bytes: Bytes,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// The object key: the served bytes' SHA-256 (lower-case hex) and the extension.
    pub key: String,
}

/// Why a file is not an image this service takes (the message completes "file …").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse(message: impl Into<String>) -> Refusal {
    Refusal(message.into())
}

/// Parses an upload of at most `max_bytes`. CPU-bound (it decodes the whole image): call
/// it off the async runtime.
pub fn parse(raw: Vec<u8>, max_bytes: usize) -> Result<Picture, Refusal> {
    if raw.len() > max_bytes {
        return Err(refuse(format!(
            "is larger than {} (the most an image may be)",
            human_bytes(max_bytes)
        )));
    }
    let format = match image::guess_format(&raw) {
        Ok(ImageFormat::Jpeg) => Format::Jpeg,
        Ok(ImageFormat::Png) => Format::Png,
        Ok(ImageFormat::WebP) => Format::WebP,
        Ok(ImageFormat::Gif) => Format::Gif,
        _ => return Err(refuse("is not a JPEG, PNG, WebP or GIF image")),
    };
    let damaged = || refuse(format!("is a damaged or truncated {} image", format.name()));
    let mut decoder = reader(&raw, format).into_decoder().map_err(|_| damaged())?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(damaged());
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(refuse(format!(
            "is {width}×{height} pixels, more than the {} million an image may have",
            MAX_PIXELS / 1_000_000
        )));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(|_| damaged())?;
    if format == Format::Jpeg && !jpeg_is_complete(&raw) {
        // The JPEG decoder fills what is missing with grey; a file cut short is refused.
        return Err(damaged());
    }
    let bytes = if orientation == Orientation::NoTransforms {
        strip(Bytes::from(raw), format).map_err(|_| damaged())?
    } else {
        pixels.apply_orientation(orientation);
        encode(&pixels, format).map_err(|_| damaged())?
    };
    let (width, height) = (pixels.width(), pixels.height());
    let key = format!("{:x}.{}", Sha256::digest(&bytes), format.extension());
    Ok(Picture {
        bytes,
        format,
        width,
        height,
        key,
    })
}

/// A reader of `raw` as `format`, with limits: enough for 40 megapixels of RGBA at 16
/// bits a channel; a decoder asking for more is refused rather than allowed to allocate.
fn reader(raw: &[u8], format: Format) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(raw), format.image());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    reader.limits(limits);
    reader
}

/// Thumbnail widths, smallest first: a picture gets one per width smaller than its own.
pub const THUMBNAIL_WIDTHS: [u32; 3] = [160, 480, 1080];

/// A smaller copy of a picture, as stored.
#[derive(Clone, Debug)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    /// `<the picture's sha256>-w<width>.<ext>`.
    pub key: String,
    pub bytes: Bytes,
}

/// The key of the `width` thumbnail of the picture stored under `key`: a JPEG's
/// thumbnails are JPEGs, any other picture's PNGs.
pub fn thumbnail_key(key: &str, width: u32) -> String {
    let (hash, ext) = key.split_once('.').unwrap_or((key, ""));
    let ext = if ext == Format::Jpeg.extension() {
        ext
    } else {
        Format::Png.extension()
    };
    format!("{hash}-w{width}.{ext}")
}

/// What is made from a stored picture in the background.
#[derive(Clone, Debug)]
pub struct Rendition {
    pub thumbnails: Vec<Thumbnail>,
    /// A BlurHash of the picture.
    pub placeholder: String,
}

/// The thumbnails and placeholder of the picture stored under `key` (`bytes` as
/// [`parse`] made them: upright, validated). A JPEG's thumbnails are JPEGs; any other
/// picture's (an animated GIF's first frame included) are PNGs, which keep transparency.
/// CPU-bound: call it off the async runtime.
pub fn render(
    key: &str,
    bytes: &[u8],
) -> Result<Rendition, Box<dyn std::error::Error + Send + Sync>> {
    let format = key
        .split_once('.')
        .and_then(|(_, ext)| Format::of_extension(ext))
        .ok_or("a key of no known format")?;
    let pixels = reader(bytes, format).decode()?;
    let (width, height) = (pixels.width(), pixels.height());
    let thumb_format = if format == Format::Jpeg {
        Format::Jpeg
    } else {
        Format::Png
    };
    // Largest first, each made from the one before (area averaging, as from the
    // picture): one pass over the whole picture instead of one per width.
    let mut thumbnails = Vec::new();
    let mut source = pixels;
    for w in THUMBNAIL_WIDTHS.into_iter().rev().filter(|w| *w < width) {
        let h = ((u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width))
            .max(1) as u32;
        source = source.thumbnail_exact(w, h);
        thumbnails.push(Thumbnail {
            width: w,
            height: h,
            key: thumbnail_key(key, w),
            bytes: encode(&source, thumb_format)?,
        });
    }
    thumbnails.reverse();
    let tiny = source.thumbnail(32, 32).to_rgba8();
    let (cx, cy) = if width >= height { (4, 3) } else { (3, 4) };
    let placeholder = blurhash::encode(cx, cy, tiny.width(), tiny.height(), tiny.as_raw())?;
    Ok(Rendition {
        thumbnails,
        placeholder,
    })
}

/// Whether a JPEG ends with its end-of-image marker (trailing padding aside).
fn jpeg_is_complete(raw: &[u8]) -> bool {
    let end = raw.iter().rposition(|b| *b != 0).map_or(0, |last| last + 1);
    raw[..end].ends_with(&[0xFF, 0xD9])
}

/// The same file without its metadata.
fn strip(raw: Bytes, format: Format) -> Result<Bytes, Box<dyn std::error::Error>> {
    Ok(match format {
        Format::Jpeg => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(raw)?;
            for marker in [
                img_parts::jpeg::markers::APP1,
                img_parts::jpeg::markers::APP13,
                img_parts::jpeg::markers::COM,
            ] {
                jpeg.remove_segments_by_marker(marker);
            }
            jpeg.encoder().bytes()
        }
        Format::Png => {
            let mut png = img_parts::png::Png::from_bytes(raw)?;
            for kind in [*b"tEXt", *b"zTXt", *b"iTXt", *b"eXIf", *b"tIME"] {
                png.remove_chunks_by_type(kind);
            }
            png.encoder().bytes()
        }
        Format::WebP => {
            let mut webp = img_parts::webp::WebP::from_bytes(raw)?;
            webp.set_exif(None);
            webp.remove_chunks_by_id(*b"XMP ");
            webp.encoder().bytes()
        }
        Format::Gif => rewrite_gif(&raw)?,
    })
}

/// A GIF's frames and loop count, written again without comments or other blocks.
fn rewrite_gif(raw: &[u8]) -> Result<Bytes, Box<dyn std::error::Error>> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(raw)?;
    let (width, height) = (decoder.width(), decoder.height());
    let palette = decoder.global_palette().unwrap_or_default().to_vec();
    let repeat = decoder.repeat();
    let mut out = Vec::with_capacity(raw.len());
    {
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette)?;
        encoder.set_repeat(repeat)?;
        while let Some(frame) = decoder.read_next_frame()? {
            encoder.write_frame(frame)?;
        }
    }
    Ok(Bytes::from(out))
}

/// Pixels encoded in `format` (a picture turned upright, or a thumbnail): a JPEG at
/// quality 85.
fn encode(pixels: &DynamicImage, format: Format) -> image::ImageResult<Bytes> {
    let mut out = Cursor::new(Vec::new());
    match format {
        Format::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            pixels.to_rgb8().write_with_encoder(encoder)?;
        }
        // WebP is written lossless (the only WebP encoder `image` has).
        Format::WebP => pixels.to_rgba8().write_to(&mut out, ImageFormat::WebP)?,
        other => pixels.write_to(&mut out, other.image())?,
    }
    Ok(Bytes::from(out.into_inner()))
}

fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// What the tests of this crate and the end-to-end tests build their files with.
#[doc(hidden)]
pub mod testing {
    use image::{ImageBuffer, ImageFormat, Rgb};

    /// A `width` × `height` gradient in `format`.
    pub fn picture(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 99]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("encode");
        out.into_inner()
    }

    /// An animated GIF of `frames` frames (a red square moving right), looping, with a
    /// comment extension saying `"secret comment"` before the first frame.
    pub fn animated_gif(width: u16, height: u16, frames: u16) -> Vec<u8> {
        let palette = [255, 0, 0, 255, 255, 255];
        let mut out = Vec::new();
        {
            let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).expect("gif");
            encoder.set_repeat(gif::Repeat::Infinite).expect("repeat");
            encoder
                .write_raw_extension(gif::Extension::Comment.into(), &[b"secret comment"])
                .expect("comment");
            for n in 0..frames {
                let buffer: Vec<u8> = (0..height)
                    .flat_map(|_| {
                        (0..width).map(move |x| u8::from(x / 8 != n % (width / 8).max(1)))
                    })
                    .collect();
                let mut frame = gif::Frame::from_indexed_pixels(width, height, buffer, None);
                frame.delay = 10;
                encoder.write_frame(&frame).expect("frame");
            }
        }
        out
    }

    /// A JPEG with an EXIF segment (APP1) right after SOI: orientation `orientation`
    /// and a GPS IFD pointer, as a phone writes.
    pub fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        // TIFF header (little-endian), IFD0 with two entries: Orientation, GPSInfo.
        let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 2, 0];
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0]);
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = (app1.len() + 2) as u16;
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{picture, with_exif};
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        picture(ImageFormat::Png, width, height)
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        picture(ImageFormat::Jpeg, width, height)
    }

    #[test]
    fn a_png_is_served_as_it_came_without_its_text_chunks() {
        let raw = png(30, 20);
        let picture = parse(raw.clone(), 1 << 20).expect("a picture");
        assert_eq!(
            (picture.format, picture.width, picture.height),
            (Format::Png, 30, 20)
        );
        assert_eq!(&picture.bytes[..], &raw[..]);
        assert!(picture.key.ends_with(".png") && picture.key.len() == 64 + 4);
    }

    #[test]
    fn exif_goes_and_the_orientation_is_applied() {
        let raw = jpeg(40, 10);
        let upright = parse(with_exif(&raw, 1), 1 << 20).expect("upright");
        assert_eq!(&upright.bytes[..], &raw[..], "only the EXIF segment goes");
        let turned = parse(with_exif(&raw, 6), 1 << 20).expect("turned");
        assert_eq!((turned.width, turned.height), (10, 40));
        assert!(!turned.bytes.windows(4).any(|w| w == b"Exif"));
    }

    #[test]
    fn thumbnails_are_made_for_each_smaller_width() {
        let picture = parse(jpeg(600, 300), 1 << 20).expect("a picture");
        let made = render(&picture.key, &picture.bytes).expect("rendered");
        let sizes: Vec<(u32, u32)> = made
            .thumbnails
            .iter()
            .map(|t| (t.width, t.height))
            .collect();
        assert_eq!(sizes, [(160, 80), (480, 240)]);
        let stem = picture.key.trim_end_matches(".jpg");
        assert_eq!(made.thumbnails[0].key, format!("{stem}-w160.jpg"));
        let decoded = image::load_from_memory(&made.thumbnails[1].bytes).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (480, 240));
        assert!(made.placeholder.len() >= 6, "{}", made.placeholder);
        let small = parse(png(100, 100), 1 << 20).expect("a picture");
        assert!(
            render(&small.key, &small.bytes)
                .expect("rendered")
                .thumbnails
                .is_empty()
        );
    }

    #[test]
    fn refusals() {
        let text = b"hello, this is not a picture at all".to_vec();
        assert!(parse(text, 1 << 20).unwrap_err().0.contains("not a JPEG"));
        let big = png(64, 64);
        let limit = big.len() - 1;
        assert!(parse(big, limit).unwrap_err().0.contains("larger than"));
        let mut cut = jpeg(64, 64);
        cut.truncate(cut.len() / 2);
        assert!(parse(cut, 1 << 20).unwrap_err().0.contains("truncated"));
        let mut cut = png(64, 64);
        cut.truncate(cut.len() / 2);
        assert!(parse(cut, 1 << 20).unwrap_err().0.contains("truncated"));
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        // A valid PNG header declaring 10,000 × 10,000 pixels, and almost no data.
        let mut raw = png(1, 1);
        raw[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        raw[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        let crc = crc32fast::hash(&raw[12..29]);
        raw[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(parse(raw, 1 << 20).unwrap_err().0.contains("million"));
    }
}
