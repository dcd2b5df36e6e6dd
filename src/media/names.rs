//! What a media file may be called and what its extension promises: the rules that keep
//! names safe to write into a subscriber's media folder and tell the checker what to expect.

/// What the bytes of a file must turn out to be, judged by its extension.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Image(image::ImageFormat),
    Svg,
    Mp3,
    Ogg,
}

impl Kind {
    /// The kind an extension (without dot, any case) stands for; `None` for types the add-on never sends.
    pub fn from_extension(ext: &str) -> Option<Self> {
        use image::ImageFormat as F;
        Some(match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Self::Image(F::Jpeg),
            "png" => Self::Image(F::Png),
            "gif" => Self::Image(F::Gif),
            "webp" => Self::Image(F::WebP),
            "bmp" => Self::Image(F::Bmp),
            "tif" | "tiff" => Self::Image(F::Tiff),
            "svg" => Self::Svg,
            "mp3" => Self::Mp3,
            "ogg" | "oga" => Self::Ogg,
            _ => return None,
        })
    }

    /// The kind of a file name, by its extension.
    pub fn of_name(name: &str) -> Option<Self> {
        Self::from_extension(name.rsplit_once('.')?.1)
    }

    /// The Content-Type downloads are served with.
    pub fn mime(self) -> &'static str {
        use image::ImageFormat as F;
        match self {
            Self::Image(F::Jpeg) => "image/jpeg",
            Self::Image(F::Png) => "image/png",
            Self::Image(F::Gif) => "image/gif",
            Self::Image(F::WebP) => "image/webp",
            Self::Image(F::Bmp) => "image/bmp",
            Self::Image(F::Tiff) => "image/tiff",
            Self::Image(_) => "application/octet-stream",
            Self::Svg => "image/svg+xml",
            Self::Mp3 => "audio/mpeg",
            Self::Ogg => "audio/ogg",
        }
    }

    /// A short extension naming the kind inside signed tokens.
    pub fn tag(self) -> &'static str {
        use image::ImageFormat as F;
        match self {
            Self::Image(F::Jpeg) => "jpg",
            Self::Image(F::Png) => "png",
            Self::Image(F::Gif) => "gif",
            Self::Image(F::WebP) => "webp",
            Self::Image(F::Bmp) => "bmp",
            Self::Image(_) => "tiff",
            Self::Svg => "svg",
            Self::Mp3 => "mp3",
            Self::Ogg => "ogg",
        }
    }
}

/// True for 32 lowercase hex characters, the only hash form stored or served.
pub fn is_md5_hex(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Why a file name is refused, or `None` when it is safe to hand to another user's add-on.
pub fn unsafe_name_reason(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        return Some("file name must be 1 to 255 bytes long");
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return Some("file name must not contain a path");
    }
    if name.chars().any(char::is_control) {
        return Some("file name must not contain control characters");
    }
    if name.starts_with(['.', ' ']) || name.ends_with(['.', ' ']) {
        return Some("file name must not start or end with a dot or a space");
    }
    if Kind::of_name(name).is_none() {
        return Some("file type is not allowed");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_addon_sends_are_accepted() {
        for ok in [
            "red1x1.png",
            "img_0a1b2c3d.webp",
            "Paris (1).JPG",
            "song.oga",
            "a+b,c%d&e.mp3",
            "café.svg",
        ] {
            assert_eq!(unsafe_name_reason(ok), None, "{ok}");
        }
    }

    #[test]
    fn unsafe_names_are_refused() {
        for bad in [
            "../x.png",
            "a/b.png",
            "a\\b.png",
            ".hidden.png",
            "x.png ",
            "x.exe",
            "noext",
            "",
            "a\u{0}.png",
            "a..png",
        ] {
            assert!(unsafe_name_reason(bad).is_some(), "{bad:?}");
        }
        assert!(unsafe_name_reason(&format!("{}.png", "a".repeat(252))).is_some());
    }

    #[test]
    fn md5_hex_is_lowercase_only() {
        assert!(is_md5_hex("9d3f217f6cfaad7f9d3786af47422d59"));
        assert!(!is_md5_hex("9D3F217F6CFAAD7F9D3786AF47422D59"));
        assert!(!is_md5_hex("../../etc/passwd0000000000000000"));
    }
}
