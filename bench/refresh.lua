-- wrk script: POST /refresh with the sealed refresh token in BENCH_REFRESH_TOKEN (form-encoded;
-- the envelope is base64url, so it needs no escaping).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "refresh_token=" .. os.getenv("BENCH_REFRESH_TOKEN")
