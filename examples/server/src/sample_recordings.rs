//! Sample recordings served by the server itself, at `/samples/recordings/<name>`: the
//! recording URLs in `send-samples`' webhooks point here, so the quick start shows a
//! recording downloaded end to end without a provider account or the internet. The
//! server's fetcher allows exactly this prefix of its own address (see
//! [`crate::recordings`]), no other path of it and no other local host.
//!
//! Each is one second of silence: MP3 for names ending in `.mp3` (what the fetcher asks
//! of Twilio), WAV otherwise.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::config::Config;

/// Where sample recordings are served.
pub const PATH: &str = "/samples/recordings";

/// `GET /samples/recordings/{name}`.
pub fn router() -> Router {
    Router::new().route(&format!("{PATH}/{{name}}"), get(recording))
}

/// The URL prefix of the sample recordings of the server configured by `config`, as the
/// server itself reaches them (its listening address; `0.0.0.0` becomes loopback).
pub fn base_url(config: &Config) -> String {
    let mut address = config.listen;
    if address.ip().is_unspecified() {
        address.set_ip(if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{address}{PATH}/")
}

async fn recording(Path(name): Path<String>) -> impl IntoResponse {
    if name.ends_with(".mp3") {
        ([(header::CONTENT_TYPE, "audio/mpeg")], silent_mp3())
    } else {
        ([(header::CONTENT_TYPE, "audio/wav")], silent_wav())
    }
}

/// One second of silence, 8 kHz mono 16-bit PCM, in a RIFF/WAVE container.
fn silent_wav() -> Vec<u8> {
    const RATE: u32 = 8000;
    let data_len = RATE * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    wav
}

/// About one second of silence as MPEG-1 Layer III frames (32 kbit/s, 32 kHz, mono):
/// 144-byte frames whose side information is all zero, which decoders play as silence.
fn silent_mp3() -> Vec<u8> {
    const FRAME: [u8; 4] = [0xFF, 0xFB, 0x18, 0xC0];
    let mut mp3 = Vec::with_capacity(28 * 144);
    for _ in 0..28 {
        mp3.extend_from_slice(&FRAME);
        mp3.resize(mp3.len() + 140, 0);
    }
    mp3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_are_well_formed_audio() {
        let wav = silent_wav();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize, wav.len() - 8);
        assert_eq!(&wav[36..40], b"data");
        let mp3 = silent_mp3();
        assert_eq!(mp3.len() % 144, 0);
        assert!(mp3.chunks(144).all(|frame| frame[..4] == [0xFF, 0xFB, 0x18, 0xC0]));
    }

    #[test]
    fn the_base_url_is_the_servers_own_loopback_address() {
        let config =
            Config::from_lookup(|name| (name == "CALLHOOK_LISTEN").then(|| "0.0.0.0:3000".to_owned())).unwrap();
        assert_eq!(base_url(&config), "http://127.0.0.1:3000/samples/recordings/");
    }
}
