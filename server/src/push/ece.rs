//! Web Push payload encryption (RFC 8291, "aes128gcm" of RFC 8188): the payload is
//! encrypted for the browser's subscription keys, with a fresh key pair and salt each time,
//! in one record.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size announced in the header: one record holds any payload up to this.
const RECORD_SIZE: u32 = 4096;
/// Largest plaintext: the record, less the delimiter and the AEAD tag.
pub(super) const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - 1 - 16;

/// `plaintext` encrypted for the subscription's public key (`p256dh`, 65 bytes) and
/// authentication secret (`auth`, 16 bytes): the body of the push request.
pub(super) fn encrypt(plaintext: &[u8], p256dh: &[u8], auth: &[u8]) -> Result<Vec<u8>, String> {
    let sender = random_key();
    let salt: [u8; 16] = rand::random();
    encrypt_with(plaintext, p256dh, auth, &sender, salt)
}

/// A fresh P-256 secret key.
pub(super) fn random_key() -> SecretKey {
    loop {
        // Nearly every 32 random bytes are a valid scalar; the rest are drawn again.
        if let Ok(key) = SecretKey::from_bytes(&rand::random::<[u8; 32]>().into()) {
            return key;
        }
    }
}

/// [`encrypt`] with the sender's key pair and the salt given (fixed in the RFC's example).
fn encrypt_with(
    plaintext: &[u8],
    p256dh: &[u8],
    auth: &[u8],
    sender: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, String> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(format!("the payload is over {MAX_PLAINTEXT} bytes"));
    }
    let receiver =
        PublicKey::from_sec1_bytes(p256dh).map_err(|_| "p256dh is not a P-256 public key")?;
    let sender_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), receiver.as_affine());
    // The input keying material, bound to both public keys (RFC 8291 §3.4).
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(receiver.to_encoded_point(false).as_bytes());
    key_info.extend_from_slice(sender_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| "HKDF")?;
    // The content encryption key and nonce (RFC 8188 §2.2, §2.3).
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let (mut key, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut key).map_err(|_| "HKDF")?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| "HKDF")?;
    let mut record = plaintext.to_vec();
    record.push(2); // the last (and only) record's delimiter, no padding
    let cipher = Aes128Gcm::new_from_slice(&key).map_err(|_| "AES key")?;
    let sealed = cipher.encrypt(&Nonce::from(nonce), record.as_slice()).map_err(|_| "AES")?;
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(sender_public.as_bytes().len() as u8);
    body.extend_from_slice(sender_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).expect("base64url")
    }

    #[test]
    fn encrypts_the_example_of_rfc_8291_byte_for_byte() {
        let sender = SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
            .expect("the example's sender key");
        let salt = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().expect("16 bytes");
        let body = encrypt_with(
            b"When I grow up, I want to be a watermelon",
            &b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b64("BTBZMqHH6r4Tts7J_aSIgg"),
            &sender,
            salt,
        )
        .expect("encrypts");
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn refuses_a_key_that_is_not_on_the_curve_and_an_oversized_payload() {
        let auth = [7u8; 16];
        assert!(encrypt(b"hi", &[4u8; 65], &auth).is_err());
        let receiver = random_key();
        let p256dh = receiver.public_key().to_encoded_point(false);
        assert!(encrypt(b"hi", p256dh.as_bytes(), &auth).is_ok());
        let big = vec![b'x'; MAX_PLAINTEXT + 1];
        assert!(encrypt(&big, p256dh.as_bytes(), &auth).is_err());
    }
}
