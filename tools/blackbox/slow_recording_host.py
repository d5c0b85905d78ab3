# Black-box check of issue 17 (recordings must not starve processing): 8 WaVoIP recordings at a host
# that accepts connections and never answers, 20 webhooks meanwhile, then SIGTERM. Prints the figures.
# Usage: cargo build -p callhook-server && python3 tools/blackbox/slow_recording_host.py (BIN= overrides the binary).
import json, os, signal, socket, subprocess, tempfile, threading, time, urllib.request
held = []
def silent():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(64)
    def loop():
        while True:
            c, _ = s.accept(); held.append(c)
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]
port = silent()
d = tempfile.mkdtemp()
lp = socket.socket(); lp.bind(("127.0.0.1", 0)); listen = lp.getsockname()[1]; lp.close()
env = dict(os.environ, WAVOIP_WEBHOOK_TOKEN="wv", CALLHOOK_ADMIN_TOKEN="adm", CALLHOOK_LISTEN=f"127.0.0.1:{listen}",
           DATABASE_URL=f"{d}/db.sqlite", CALLHOOK_RECORDINGS_DIR=f"{d}/rec", CALLHOOK_RECORDING_HOSTS=f"127.0.0.1:{port}", RUST_LOG="warn")
srv = subprocess.Popen([os.environ.get("BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/callhook-server"))], env=env)
base = f"http://127.0.0.1:{listen}"
for _ in range(200):
    try: urllib.request.urlopen(base + "/healthz"); break
    except Exception: time.sleep(0.05)
def post(body):
    r = urllib.request.Request(base + "/webhooks/wavoip?token=wv", data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    return urllib.request.urlopen(r).status
for i in range(8):
    post({"type": "RECORD", "action": "UPDATE", "whatsapp_call_id": f"slow{i}", "record_status": "READY", "record_url": f"http://127.0.0.1:{port}/r/{i}"})
time.sleep(1.0)
print("connections held by the silent host:", len(held))
t0 = time.time()
for i in range(20):
    post({"type": "CALL", "action": "CREATE", "whatsapp_call_id": f"live{i}", "status": "ACTIVE", "direction": "INCOMING", "duration": 0})
def processed():
    r = urllib.request.Request(base + "/api/events/count?provider=wavoip&status=processed", headers={"authorization": "Bearer adm"})
    return json.load(urllib.request.urlopen(r))["processed"]
while processed() < 28 and time.time() - t0 < 60: time.sleep(0.05)
print(f"processed {processed() - 8} of 20 webhooks in {time.time() - t0:.2f} s while downloads hang; held connections: {len(held)}")
t1 = time.time(); srv.send_signal(signal.SIGTERM); srv.wait()
print(f"SIGTERM to exit: {time.time() - t1:.2f} s (exit code {srv.returncode})")
