//! Pads plaintexts to size buckets before sealing, so the length of a ciphertext says little
//! about the length of what was written (P5).

use zeroize::Zeroizing;

use super::CryptoError;

const SMALLEST_BUCKET: usize = 1024;

/// `len (u32 LE) || data || zeros`, to the next power-of-two bucket of at least 1 KiB.
pub fn pad(data: &[u8]) -> Zeroizing<Vec<u8>> {
    let needed = data.len() + 4;
    let bucket = needed.next_power_of_two().max(SMALLEST_BUCKET);
    let mut out = Zeroizing::new(Vec::with_capacity(bucket));
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out.resize(bucket, 0);
    out
}

/// The data inside a padded plaintext.
pub fn unpad(padded: &[u8]) -> Result<&[u8], CryptoError> {
    let len_bytes: [u8; 4] = padded
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or(CryptoError::Malformed)?;
    let len = u32::from_le_bytes(len_bytes) as usize;
    padded.get(4..4 + len).ok_or(CryptoError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fall_in_buckets() {
        assert_eq!(pad(b"").len(), 1024);
        assert_eq!(pad(&[1; 1020]).len(), 1024);
        assert_eq!(pad(&[1; 1021]).len(), 2048);
        assert_eq!(pad(&[1; 15000]).len(), 16384);
    }

    #[test]
    fn round_trip() {
        let p = pad("减负".as_bytes());
        assert_eq!(unpad(&p).unwrap(), "减负".as_bytes());
        assert!(unpad(&[255, 255, 0, 0, 1]).is_err());
        assert!(unpad(&[1]).is_err());
    }
}
