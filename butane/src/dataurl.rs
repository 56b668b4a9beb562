//! Contents as butane embeds them (`base/util/url.go` `MakeDataURL`): a `data:` URL,
//! percent-escaped or base64, whichever is shorter, or gzip-compressed and base64 when that
//! is shorter still by more than the four bytes `"gzip"` costs.
//!
//! Go's deflate is its own; Rust cannot write its bytes, only its lengths: zlib's level-9
//! stream ended by a sync flush is as long as Go's ended by its empty final block. The
//! choice to compress follows that length; the bytes written are zlib's (two bytes longer,
//! for the final block), which decompress to the same contents.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::{Compress, Compression, FlushCompress};

/// A resource's `source` and the `compression` butane sets beside it: `Some("")` when the
/// config set none (so a merged child cannot inherit its parent's), `Some("gzip")` when
/// butane compressed, `None` to keep the config's own.
pub struct DataUrl {
    pub source: String,
    pub compression: Option<String>,
}

pub fn make(contents: &[u8], compression: Option<&str>) -> DataUrl {
    let unset = compression.is_none_or(str::is_empty);
    let mut opaque = format!(",{}", escape(contents));
    let b64 = format!(";base64,{}", STANDARD.encode(contents));
    if b64.len() < opaque.len() {
        opaque = b64;
    }
    let mut chosen = if unset { Some(String::new()) } else { None };
    if unset {
        // Go's gzip member: a 10-byte header, the deflate stream, an 8-byte trailer.
        let deflated = deflate_sync(contents);
        let go_b64 = ";base64,".len() + (10 + deflated.len() + 8).div_ceil(3) * 4;
        if go_b64 + "gzip".len() < opaque.len() {
            opaque = format!(
                ";base64,{}",
                STANDARD.encode(gzip_member(contents, &deflated))
            );
            chosen = Some("gzip".to_string());
        }
    }
    DataUrl {
        source: format!("data:{opaque}"),
        compression: chosen,
    }
}

/// dataurl.Escape: every byte but `A-Za-z0-9-_.!~*'()` as `%XX`.
pub fn escape(contents: &[u8]) -> String {
    let mut out = String::with_capacity(contents.len());
    for &b in contents {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

thread_local! {
    /// One level-9 compressor, reset per use: setting one up costs more than most contents.
    static DEFLATE: std::cell::RefCell<Compress> = std::cell::RefCell::new(Compress::new(Compression::best(), false));
}

/// zlib's level-9 deflate of `contents` ended by a sync flush: as long as Go's stream, which
/// ends with an empty final stored block where this ends with an empty non-final one.
fn deflate_sync(contents: &[u8]) -> Vec<u8> {
    DEFLATE.with(|deflate| {
        let mut deflate = deflate.borrow_mut();
        deflate.reset();
        let mut out = Vec::with_capacity(contents.len() + contents.len() / 8 + 64);
        loop {
            let before = deflate.total_in() as usize;
            deflate
                .compress_vec(&contents[before..], &mut out, FlushCompress::Sync)
                .expect("deflating into memory");
            if deflate.total_in() as usize == contents.len() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(out.capacity().max(64));
        }
    })
}

/// A gzip member around a sync-flushed stream: an empty final block (`03 00`) closes it.
fn gzip_member(contents: &[u8], deflated: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(contents);
    let mut out = Vec::with_capacity(deflated.len() + 20);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
    out.extend_from_slice(deflated);
    out.extend_from_slice(&[0x03, 0x00]);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(contents.len() as u32).to_le_bytes());
    out
}

/// The bytes a `data:` URL holds (RFC 2397: base64 or percent-escaped), as Ignition reads
/// them; `None` if it is not one.
pub fn decode(url: &str) -> Option<Vec<u8>> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    if meta.ends_with(";base64") {
        STANDARD.decode(percent_decode(data.as_bytes())?).ok()
    } else {
        percent_decode(data.as_bytes())
    }
}

fn percent_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let hex = std::str::from_utf8(text.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_escaped_and_long_repetitive_text_gzipped() {
        let url = make(b"hello world\n", None);
        assert_eq!(url.source, "data:,hello%20world%0A");
        assert_eq!(url.compression.as_deref(), Some(""));
        assert_eq!(make(b"", None).source, "data:,");
        // butane's own test vector: 149 z's compress, Go's deflate to 9 bytes
        // (`H4sIAAAAAAAC/6oajAAQAAD//5tA8d+VAAAA`); zlib's estimate is within a byte.
        let zs = vec![b'z'; 149];
        assert!(
            deflate_sync(&zs).len().abs_diff(9) <= 1,
            "{}",
            deflate_sync(&zs).len()
        );
        let url = make(&zs, None);
        assert_eq!(url.compression.as_deref(), Some("gzip"));
        let gz = decode(&url.source).unwrap();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        assert_eq!(plain, zs);
    }

    #[test]
    fn a_set_compression_is_kept_and_nothing_recompressed() {
        let url = make(&[b'z'; 149], Some("gzip"));
        assert_eq!(url.compression, None);
        assert_eq!(url.source, format!("data:,{}", "z".repeat(149)));
    }
}
