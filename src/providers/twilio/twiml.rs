//! A typed TwiML builder: the replies Twilio expects to voice and messaging webhooks.
//!
//! Verbs are built with typed setters and written with `quick-xml`, which escapes
//! text and attributes, so a caller's name or a URL with `&` never breaks the document.
//! Attribute names follow Twilio's TwiML reference.
//!
//! ```
//! use callhook::providers::twilio::twiml::{Dial, Sip, VoiceResponse};
//!
//! let reply = VoiceResponse::new()
//!     .say("Connecting you to our assistant & team")
//!     .verb(Dial::new().answer_on_bridge(true).sip(Sip::new("sip:agent@voice.example.com")));
//! assert_eq!(
//!     reply.to_xml(),
//!     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
//!      <Say>Connecting you to our assistant &amp; team</Say>\
//!      <Dial answerOnBridge=\"true\"><Sip>sip:agent@voice.example.com</Sip></Dial>\
//!      </Response>"
//! );
//! ```

use std::fmt::Display;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The content type of every TwiML reply.
pub const TWIML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// One XML element: what every verb and noun is underneath.
#[derive(Clone, Debug, PartialEq)]
struct Element {
    name: &'static str,
    attributes: Vec<(&'static str, String)>,
    text: Option<String>,
    children: Vec<Element>,
}

impl Element {
    fn new(name: &'static str) -> Self {
        Self { name, attributes: Vec::new(), text: None, children: Vec::new() }
    }

    fn with_text(name: &'static str, text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Self::new(name) }
    }

    fn set(&mut self, name: &'static str, value: impl Display) {
        let value = value.to_string();
        match self.attributes.iter_mut().find(|(n, _)| *n == name) {
            Some(existing) => existing.1 = value,
            None => self.attributes.push((name, value)),
        }
    }

    fn write(&self, writer: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let mut start = BytesStart::new(self.name);
        for (name, value) in &self.attributes {
            start.push_attribute((*name, value.as_str()));
        }
        if self.text.is_none() && self.children.is_empty() {
            return writer.write_event(Event::Empty(start));
        }
        writer.write_event(Event::Start(start))?;
        if let Some(text) = &self.text {
            writer.write_event(Event::Text(BytesText::new(text)))?;
        }
        for child in &self.children {
            child.write(writer)?;
        }
        writer.write_event(Event::End(BytesEnd::new(self.name)))
    }
}

fn document(root: &Element) -> String {
    let mut writer = Writer::new(Vec::new());
    let written = writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| root.write(&mut writer));
    // Writing into a Vec has no I/O that could fail.
    written.expect("writing XML into memory cannot fail");
    String::from_utf8(writer.into_inner()).expect("quick-xml writes the UTF-8 it is given")
}

fn xml_response(xml: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(xml));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(TWIML_CONTENT_TYPE));
    response
}

/// Declares typed attribute setters.
macro_rules! attributes {
    ($( $(#[$meta:meta])* $setter:ident($ty:ty) => $name:literal; )*) => {
        $(
            $(#[$meta])*
            pub fn $setter(mut self, value: $ty) -> Self {
                self.0.set($name, value);
                self
            }
        )*
    };
}

/// Declares a verb or noun type over an [`Element`].
macro_rules! element {
    ($(#[$meta:meta])* $ty:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $ty(Element);

        impl From<$ty> for Verb {
            fn from(value: $ty) -> Self {
                Verb(value.0)
            }
        }
    };
}

/// Any TwiML verb, ready to go into a [`VoiceResponse`]; every verb type converts into it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verb(Element);

/// A voice reply: `<Response>` with verbs run in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VoiceResponse {
    verbs: Vec<Element>,
}

impl VoiceResponse {
    /// An empty response: Twilio ends the call.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a verb.
    pub fn verb(mut self, verb: impl Into<Verb>) -> Self {
        self.verbs.push(verb.into().0);
        self
    }

    /// Appends `<Say>` with the text.
    pub fn say(self, text: impl Into<String>) -> Self {
        self.verb(Say::new(text))
    }

    /// Appends `<Play>` of an audio URL.
    pub fn play(self, url: impl Into<String>) -> Self {
        self.verb(Play::new(url))
    }

    /// Appends `<Pause>` for `seconds`.
    pub fn pause(self, seconds: u32) -> Self {
        self.verb(Pause::new().length(seconds))
    }

    /// Appends `<Hangup/>`.
    pub fn hangup(self) -> Self {
        self.verb(Hangup::new())
    }

    /// Appends `<Reject/>`: the call is not answered (and not billed).
    pub fn reject(self) -> Self {
        self.verb(Reject::new())
    }

    /// Appends `<Redirect>` to a URL.
    pub fn redirect(self, url: impl Into<String>) -> Self {
        self.verb(Redirect::new(url))
    }

    /// The XML document, with its declaration.
    pub fn to_xml(&self) -> String {
        document(&Element { children: self.verbs.clone(), ..Element::new("Response") })
    }

    /// A `200 OK` with the document and `Content-Type: text/xml`.
    pub fn into_http_response(self) -> Response<Bytes> {
        xml_response(self.to_xml())
    }
}

/// A messaging reply: `<Response>` with `<Message>`s to send back (none: send nothing).
///
/// ```
/// use callhook::providers::twilio::twiml::MessagingResponse;
/// assert_eq!(MessagingResponse::new().to_xml(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessagingResponse {
    messages: Vec<Element>,
}

impl MessagingResponse {
    /// An empty response: nothing is sent back.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a `<Message>` with the text.
    pub fn message(mut self, body: impl Into<String>) -> Self {
        self.messages.push(Element::with_text("Message", body));
        self
    }

    /// The XML document, with its declaration.
    pub fn to_xml(&self) -> String {
        document(&Element { children: self.messages.clone(), ..Element::new("Response") })
    }

    /// A `200 OK` with the document and `Content-Type: text/xml`.
    pub fn into_http_response(self) -> Response<Bytes> {
        xml_response(self.to_xml())
    }
}

element!(
    /// `<Say>`: text to speech.
    Say
);
impl Say {
    /// Speaks `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Element::with_text("Say", text))
    }
    attributes! {
        /// `voice`, e.g. `Polly.Camila`.
        voice(&str) => "voice";
        /// `language`, e.g. `pt-BR`.
        language(&str) => "language";
        /// `loop`: how many times (0: until the call ends).
        repeat(u32) => "loop";
    }
}

element!(
    /// `<Play>`: plays an audio file.
    Play
);
impl Play {
    /// Plays the audio at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self(Element::with_text("Play", url))
    }
    attributes! {
        /// `loop`: how many times (0: until the call ends).
        repeat(u32) => "loop";
    }
}

element!(
    /// `<Pause>`: silence.
    Pause
);
impl Pause {
    /// A one-second pause.
    pub fn new() -> Self {
        Self(Element::new("Pause"))
    }
    attributes! {
        /// `length`, in seconds.
        length(u32) => "length";
    }
}

impl Default for Pause {
    fn default() -> Self {
        Self::new()
    }
}

element!(
    /// `<Gather>`: collects digits or speech, with nested `Say`, `Play` and `Pause`.
    Gather
);
impl Gather {
    /// A gather with Twilio's defaults.
    pub fn new() -> Self {
        Self(Element::new("Gather"))
    }
    /// Nests a `<Say>` (prompt played while gathering).
    pub fn say(mut self, say: Say) -> Self {
        self.0.children.push(say.0);
        self
    }
    /// Nests a `<Play>`.
    pub fn play(mut self, play: Play) -> Self {
        self.0.children.push(play.0);
        self
    }
    /// Nests a `<Pause>`.
    pub fn pause(mut self, pause: Pause) -> Self {
        self.0.children.push(pause.0);
        self
    }
    attributes! {
        /// `input`: `dtmf`, `speech` or `dtmf speech`.
        input(&str) => "input";
        /// `action`: where Twilio posts the result.
        action(&str) => "action";
        /// `method` for the action.
        method(&str) => "method";
        /// `timeout`, in seconds.
        timeout(u32) => "timeout";
        /// `numDigits`.
        num_digits(u32) => "numDigits";
        /// `finishOnKey`.
        finish_on_key(&str) => "finishOnKey";
        /// `speechTimeout` (seconds or `auto`).
        speech_timeout(&str) => "speechTimeout";
        /// `language` for speech recognition.
        language(&str) => "language";
        /// `hints`: expected words or phrases.
        hints(&str) => "hints";
    }
}

impl Default for Gather {
    fn default() -> Self {
        Self::new()
    }
}

element!(
    /// `<Dial>`: connects the caller to a number, SIP URI, client or conference.
    Dial
);
impl Dial {
    /// A dial with no target yet.
    pub fn new() -> Self {
        Self(Element::new("Dial"))
    }
    /// Dials a phone number.
    pub fn number(mut self, number: Number) -> Self {
        self.0.children.push(number.0);
        self
    }
    /// Dials a SIP URI (e.g. an AI voice agent).
    pub fn sip(mut self, sip: Sip) -> Self {
        self.0.children.push(sip.0);
        self
    }
    /// Dials a Twilio Client identity.
    pub fn client(mut self, client: Client) -> Self {
        self.0.children.push(client.0);
        self
    }
    /// Joins a conference.
    pub fn conference(mut self, conference: Conference) -> Self {
        self.0.children.push(conference.0);
        self
    }
    attributes! {
        /// `callerId` shown to the dialled party.
        caller_id(&str) => "callerId";
        /// `action`: where Twilio posts when the dialled call ends.
        action(&str) => "action";
        /// `method` for the action.
        method(&str) => "method";
        /// `timeout`: seconds to wait for an answer.
        timeout(u32) => "timeout";
        /// `timeLimit`: the longest the call may last, in seconds.
        time_limit(u32) => "timeLimit";
        /// `record`: e.g. `record-from-answer-dual`.
        record(&str) => "record";
        /// `recordingStatusCallback`.
        recording_status_callback(&str) => "recordingStatusCallback";
        /// `answerOnBridge`: keep ringing the caller until the dialled party answers.
        answer_on_bridge(bool) => "answerOnBridge";
    }
}

impl Default for Dial {
    fn default() -> Self {
        Self::new()
    }
}

/// Declares a `Dial` noun.
macro_rules! noun {
    ($(#[$meta:meta])* $ty:ident($tag:literal)) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $ty(Element);
        impl $ty {
            /// The noun with its text content.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Element::with_text($tag, value))
            }
        }
    };
}

noun!(
    /// `<Number>` inside `<Dial>`.
    Number("Number")
);
impl Number {
    attributes! {
        /// `sendDigits` once answered.
        send_digits(&str) => "sendDigits";
        /// `url`: TwiML run for the called party before connecting.
        url(&str) => "url";
    }
}

noun!(
    /// `<Sip>` inside `<Dial>`.
    Sip("Sip")
);
impl Sip {
    attributes! {
        /// `username` for SIP authentication.
        username(&str) => "username";
        /// `password` for SIP authentication.
        password(&str) => "password";
    }
}

noun!(
    /// `<Client>` inside `<Dial>`.
    Client("Client")
);

noun!(
    /// `<Conference>` inside `<Dial>`: the room's name.
    Conference("Conference")
);
impl Conference {
    attributes! {
        /// `startConferenceOnEnter`.
        start_conference_on_enter(bool) => "startConferenceOnEnter";
        /// `endConferenceOnExit`.
        end_conference_on_exit(bool) => "endConferenceOnExit";
        /// `muted`.
        muted(bool) => "muted";
        /// `waitUrl`: hold music.
        wait_url(&str) => "waitUrl";
    }
}

element!(
    /// `<Connect>`: connects the call to a media stream (bidirectional).
    Connect
);
impl Connect {
    /// Connects to a `<Stream>`.
    pub fn stream(stream: Stream) -> Self {
        let mut element = Element::new("Connect");
        element.children.push(stream.0);
        Self(element)
    }
    attributes! {
        /// `action`: where Twilio posts when the stream ends.
        action(&str) => "action";
    }
}

/// `<Stream>` inside `<Connect>`: a WebSocket media stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream(Element);
impl Stream {
    /// Streams to the `wss://` URL.
    pub fn new(url: &str) -> Self {
        let mut element = Element::new("Stream");
        element.set("url", url);
        Self(element)
    }
    /// Adds a `<Parameter name=... value=.../>` passed to the stream's start message.
    pub fn parameter(mut self, name: &str, value: &str) -> Self {
        let mut parameter = Element::new("Parameter");
        parameter.set("name", name);
        parameter.set("value", value);
        self.0.children.push(parameter);
        self
    }
    attributes! {
        /// `name` of the stream.
        name(&str) => "name";
        /// `track`: `inbound_track`, `outbound_track` or `both_tracks`.
        track(&str) => "track";
        /// `statusCallback`.
        status_callback(&str) => "statusCallback";
    }
}

element!(
    /// `<Record>`: records the caller.
    Record
);
impl Record {
    /// A recording with Twilio's defaults.
    pub fn new() -> Self {
        Self(Element::new("Record"))
    }
    attributes! {
        /// `action`: where Twilio posts when recording ends.
        action(&str) => "action";
        /// `method` for the action.
        method(&str) => "method";
        /// `timeout`: seconds of silence that end the recording.
        timeout(u32) => "timeout";
        /// `maxLength`, in seconds.
        max_length(u32) => "maxLength";
        /// `finishOnKey`.
        finish_on_key(&str) => "finishOnKey";
        /// `playBeep`.
        play_beep(bool) => "playBeep";
        /// `trim`: `trim-silence` or `do-not-trim`.
        trim(&str) => "trim";
        /// `recordingStatusCallback`.
        recording_status_callback(&str) => "recordingStatusCallback";
        /// `recordingStatusCallbackEvent`: e.g. `in-progress completed absent`.
        recording_status_callback_event(&str) => "recordingStatusCallbackEvent";
        /// `transcribe`.
        transcribe(bool) => "transcribe";
    }
}

impl Default for Record {
    fn default() -> Self {
        Self::new()
    }
}

element!(
    /// `<Redirect>`: continues with TwiML from another URL.
    Redirect
);
impl Redirect {
    /// Redirects to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self(Element::with_text("Redirect", url))
    }
    attributes! {
        /// `method`: `GET` or `POST`.
        method(&str) => "method";
    }
}

element!(
    /// `<Reject>`: refuses the call without answering it.
    Reject
);
impl Reject {
    /// Rejects with Twilio's default reason (`rejected`).
    pub fn new() -> Self {
        Self(Element::new("Reject"))
    }
    attributes! {
        /// `reason`: `rejected` or `busy`.
        reason(&str) => "reason";
    }
}

impl Default for Reject {
    fn default() -> Self {
        Self::new()
    }
}

element!(
    /// `<Hangup>`: ends the call.
    Hangup
);
impl Hangup {
    /// Hangs up.
    pub fn new() -> Self {
        Self(Element::new("Hangup"))
    }
}

impl Default for Hangup {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::Reader;
    use quick_xml::events::Event as XmlEvent;

    /// An element read back: name, attributes, text.
    type Node = (String, Vec<(String, String)>, String);

    /// Reads a document back, elements in document order.
    fn read_back(xml: &str) -> Vec<Node> {
        let mut reader = Reader::from_str(xml);
        let mut out: Vec<Node> = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                XmlEvent::Start(e) | XmlEvent::Empty(e) => {
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.unescape_value().unwrap().into_owned(),
                            )
                        })
                        .collect();
                    out.push((String::from_utf8(e.name().as_ref().to_vec()).unwrap(), attrs, String::new()));
                }
                XmlEvent::Text(t) => out.last_mut().unwrap().2.push_str(&t.decode().unwrap()),
                XmlEvent::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    let text = quick_xml::escape::resolve_xml_entity(&name).unwrap();
                    out.last_mut().unwrap().2.push_str(text);
                }
                XmlEvent::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn every_verb_is_written_with_escaped_text_and_attributes() {
        let reply = VoiceResponse::new()
            .verb(Say::new("Olá <José> & \"Ana\"").voice("Polly.Camila").language("pt-BR"))
            .play("https://cdn.example.com/a.mp3?x=1&y=2")
            .pause(2)
            .verb(Gather::new().input("dtmf speech").num_digits(1).action("/g?a=1&b=2").say(Say::new("Press 1")))
            .verb(
                Dial::new()
                    .caller_id("+15550000000")
                    .number(Number::new("+15551112222").send_digits("ww12"))
                    .sip(Sip::new("sip:agent@ai.example.com;transport=tls").username("u"))
                    .client(Client::new("alice"))
                    .conference(Conference::new("room & 1").muted(true)),
            )
            .verb(Connect::stream(Stream::new("wss://ai.example.com/s").parameter("lead", "42 & co")))
            .verb(Record::new().max_length(60).play_beep(false))
            .redirect("/next")
            .verb(Reject::new().reason("busy"))
            .hangup();
        let read = read_back(&reply.to_xml());
        let names: Vec<&str> = read.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Response",
                "Say",
                "Play",
                "Pause",
                "Gather",
                "Say",
                "Dial",
                "Number",
                "Sip",
                "Client",
                "Conference",
                "Connect",
                "Stream",
                "Parameter",
                "Record",
                "Redirect",
                "Reject",
                "Hangup"
            ]
        );
        assert_eq!(read[1].2, "Olá <José> & \"Ana\"");
        assert_eq!(read[1].1, [("voice".into(), "Polly.Camila".into()), ("language".into(), "pt-BR".into())]);
        assert_eq!(read[2].2, "https://cdn.example.com/a.mp3?x=1&y=2");
        assert!(read[4].1.contains(&("action".into(), "/g?a=1&b=2".into())));
        assert_eq!(read[10].2, "room & 1");
        assert_eq!(read[13].1, [("name".into(), "lead".into()), ("value".into(), "42 & co".into())]);
        assert_eq!(read[16].1, [("reason".into(), "busy".into())]);
    }

    #[test]
    fn replies_are_text_xml() {
        let response = VoiceResponse::new().hangup().into_http_response();
        assert_eq!(response.headers()[CONTENT_TYPE], TWIML_CONTENT_TYPE);
        assert!(response.body().starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/>"));
        let setter_twice = Reject::new().reason("busy").reason("rejected");
        assert_eq!(setter_twice.0.attributes, [("reason", "rejected".to_owned())]);
    }
}
