//! Base64 (RFC 4648): the two codecs the provider uses, in place of a general-purpose crate
//! (bundle size). [`URL_SAFE_NO_PAD`] (§5, no padding) for tokens, JWS parts, hashes and ids;
//! [`STANDARD`] (§4, padded) for the HTTP Basic header (RFC 7617 §2, RFC 6749 §2.3.1).
//!
//! Decoding is strict, so that one byte string has exactly one accepted encoding (JWS signatures
//! and stored hashes must not be malleable, RFC 4648 §3.5): characters outside the alphabet,
//! padding where none is expected or missing/extra padding where it is required, a length that
//! leaves 6 bits (`len % 4 == 1`) and non-zero unused bits in the last character are all refused.
//! This matches the `base64` 0.22 crate's `URL_SAFE_NO_PAD` / `STANDARD` engines (tests compare).

/// A base64 alphabet with or without padding.
pub struct Codec {
    alphabet: &'static [u8; 64],
    padded: bool,
}

/// RFC 4648 §5 base64url, without padding (RFC 7515 §2, RFC 7636 §3).
pub const URL_SAFE_NO_PAD: Codec = Codec {
    alphabet: b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    padded: false,
};

/// RFC 4648 §4 base64, padded with `=` to a multiple of 4 characters.
pub const STANDARD: Codec = Codec {
    alphabet: b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    padded: true,
};

/// The input is not the canonical encoding of any byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

impl Codec {
    pub fn encode(&self, bytes: impl AsRef<[u8]>) -> String {
        let mut out = String::new();
        self.encode_into(bytes.as_ref(), &mut out);
        out
    }

    /// Appends the encoding to `out` (building `a.b.c` tokens without intermediate strings).
    pub fn encode_string(&self, bytes: impl AsRef<[u8]>, out: &mut String) {
        self.encode_into(bytes.as_ref(), out);
    }

    pub fn decode(&self, text: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
        self.decode_bytes(text.as_ref())
    }

    fn encode_into(&self, bytes: &[u8], out: &mut String) {
        out.reserve(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            // The chunk left-aligned in 24 bits; a short chunk gives len + 1 characters.
            let bits = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(char::from(
                    self.alphabet[(bits >> (18 - 6 * i)) as usize & 63],
                ));
            }
            if self.padded {
                for _ in chunk.len()..3 {
                    out.push('=');
                }
            }
        }
    }

    fn decode_bytes(&self, text: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let data = if self.padded {
            // §3.2: a multiple of 4 characters, the last one or two of which may be `=`; the
            // data left is then 4n, 4n+3 or 4n+2 long, exactly what that padding implies. Any
            // other `=` is outside the alphabet below.
            if !text.len().is_multiple_of(4) {
                return Err(DecodeError);
            }
            text.strip_suffix(b"==")
                .or_else(|| text.strip_suffix(b"="))
                .unwrap_or(text)
        } else {
            text
        };
        let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
        let mut bits = 0u32;
        for (i, &c) in data.iter().enumerate() {
            bits = (bits << 6) | u32::from(self.value(c).ok_or(DecodeError)?);
            if i % 4 == 3 {
                out.extend_from_slice(&bits.to_be_bytes()[1..]);
                bits = 0;
            }
        }
        // §3.5: the bits beyond the last whole byte must be zero (one encoding per value).
        match data.len() % 4 {
            0 => {}
            2 if bits & 0xf == 0 => out.push((bits >> 4) as u8),
            3 if bits & 0x3 == 0 => out.extend_from_slice(&((bits >> 2) as u16).to_be_bytes()),
            _ => return Err(DecodeError),
        }
        Ok(out)
    }

    /// The 6-bit value of an alphabet character (`=` and everything else: none).
    fn value(&self, c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            _ if c == self.alphabet[62] => Some(62),
            _ if c == self.alphabet[63] => Some(63),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// RFC 4648 §10.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc_4648_test_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(STANDARD.encode(plain), encoded);
            assert_eq!(STANDARD.decode(encoded).unwrap(), plain.as_bytes());
            let unpadded = encoded.trim_end_matches('=');
            assert_eq!(URL_SAFE_NO_PAD.encode(plain), unpadded);
            assert_eq!(URL_SAFE_NO_PAD.decode(unpadded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn the_alphabets_differ_in_the_last_two_characters() {
        let bytes = [0xfb, 0xff, 0xbf];
        assert_eq!(STANDARD.encode(bytes), "+/+/");
        assert_eq!(URL_SAFE_NO_PAD.encode(bytes), "-_-_");
        assert_eq!(STANDARD.decode("+/+/").unwrap(), bytes);
        assert_eq!(URL_SAFE_NO_PAD.decode("-_-_").unwrap(), bytes);
        assert_eq!(STANDARD.decode("-_-_"), Err(DecodeError));
        assert_eq!(URL_SAFE_NO_PAD.decode("+/+/"), Err(DecodeError));
    }

    #[test]
    fn encode_string_appends() {
        let mut token = String::from("a.");
        URL_SAFE_NO_PAD.encode_string(b"fo", &mut token);
        assert_eq!(token, "a.Zm8");
    }

    #[test]
    fn refuses_everything_but_the_canonical_encoding() {
        let url = [
            ("padding", "Zg=="),
            ("one padding character", "Zm8="),
            ("length 1 mod 4", "Z"),
            ("length 5", "Zm9vY"),
            ("non-zero trailing bits (2 characters)", "Zh"),
            ("non-zero trailing bits (3 characters)", "Zm9"),
            ("standard alphabet", "Zm+8"),
            ("standard alphabet /", "Zm/8"),
            ("space", "Zm 8"),
            ("trailing newline", "Zm8\n"),
            ("dot", "Zm8."),
            ("non-ASCII", "Zm8\u{e9}"),
            ("padding inside", "Zg=Zm9v"),
        ];
        for (case, text) in url {
            assert_eq!(URL_SAFE_NO_PAD.decode(text), Err(DecodeError), "{case}");
        }
        let standard = [
            ("no padding", "Zg"),
            ("no padding (3 characters)", "Zm8"),
            ("short padding", "Zg="),
            ("extra padding", "Zm8=="),
            ("three padding characters", "Zg==="),
            ("padding only", "===="),
            ("one character and padding", "Z==="),
            ("padding in the middle", "Zg==Zg=="),
            ("padding then data", "Zm=v"),
            ("non-zero trailing bits (2 characters)", "Zh=="),
            ("non-zero trailing bits (3 characters)", "Zm9="),
            ("url-safe alphabet -", "Zm-8"),
            ("url-safe alphabet _", "Zm_8"),
            ("leading space", " Zm9v"),
            ("trailing newline", "Zm9v\n"),
            ("length 5", "Zm9vY"),
        ];
        for (case, text) in standard {
            assert_eq!(STANDARD.decode(text), Err(DecodeError), "{case}");
        }
    }

    /// xorshift64: deterministic test inputs without a dependency.
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
        fn bytes(&mut self, max_len: usize) -> Vec<u8> {
            let len = self.below(max_len + 1);
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    #[test]
    fn round_trips_and_matches_the_base64_crate() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let bytes = rng.bytes(70);
            let url = URL_SAFE_NO_PAD.encode(&bytes);
            let std = STANDARD.encode(&bytes);
            assert_eq!(
                url,
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
            );
            assert_eq!(
                std,
                base64::engine::general_purpose::STANDARD.encode(&bytes)
            );
            assert_eq!(URL_SAFE_NO_PAD.decode(&url).unwrap(), bytes);
            assert_eq!(STANDARD.decode(&std).unwrap(), bytes);
        }
    }

    /// Both codecs accept and refuse exactly the same inputs as the crate, with the same output.
    #[test]
    fn decodes_garbage_exactly_like_the_base64_crate() {
        let ours = [URL_SAFE_NO_PAD, STANDARD];
        let theirs = [
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
            base64::engine::general_purpose::STANDARD,
        ];
        // Mostly alphabet characters, so that a fair share of inputs is valid.
        let pool = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789AQgw-_+/====. \n\xff\x00";
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..40_000 {
            let (codec, engine) = (&ours[round % 2], &theirs[round % 2]);
            let text: Vec<u8> = if round % 4 < 2 {
                let len = rng.below(14);
                (0..len).map(|_| pool[rng.below(pool.len())]).collect()
            } else {
                // A valid encoding with one character changed, inserted or removed.
                let mut text = codec.encode(rng.bytes(12)).into_bytes();
                let at = rng.below(text.len() + 1);
                let c = pool[rng.below(pool.len())];
                match rng.below(3) {
                    0 if at < text.len() => text[at] = c,
                    1 if at < text.len() => drop(text.remove(at)),
                    _ => text.insert(at, c),
                }
                text
            };
            let expected = engine.decode(&text);
            assert_eq!(
                codec.decode(&text).ok(),
                expected.as_ref().ok().cloned(),
                "{text:?}"
            );
            if expected.is_ok() {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            accepted > 5000 && refused > 5000,
            "{accepted} accepted, {refused} refused"
        );
    }

    #[test]
    fn every_single_character_decodes_like_the_base64_crate() {
        for codec in [URL_SAFE_NO_PAD, STANDARD] {
            for a in 0..=255u8 {
                for b in [b'A', b'Q', b'g', b'w', b'B', b'='] {
                    for text in [vec![a, b], vec![b'A', a, b], vec![b'A', b'A', a, b]] {
                        let engine = if codec.padded {
                            base64::engine::general_purpose::STANDARD
                        } else {
                            base64::engine::general_purpose::URL_SAFE_NO_PAD
                        };
                        assert_eq!(
                            codec.decode(&text).ok(),
                            engine.decode(&text).ok(),
                            "{text:?}"
                        );
                    }
                }
            }
        }
    }
}
