-- A ledger written by batch-cancel at commit a64c0bd (schema 1, PRAGMA user_version=1),
-- dumped with sqlite3's iterdump: two runs, every outcome kind, a retried row, a timeout,
-- an order on two warehouses, and a run killed mid-request (attempt never answered).
BEGIN TRANSACTION;
CREATE TABLE attempts (
    attempt_id    INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    sent_at       TEXT NOT NULL,
    answered_at   TEXT,            -- NULL: sent, never answered (killed, or no answer)
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    request_id    TEXT,
    cancelled     INTEGER NOT NULL DEFAULT 0  -- 1: this answer confirmed the order cancelled
);
INSERT INTO "attempts" VALUES(1,1,1,'SHP-0001','WH-1',1,'2026-12-02T21:01:14.755Z','2026-12-02T21:01:14.755Z',200,'','','rq-1',1);
INSERT INTO "attempts" VALUES(2,1,2,'SHP-0002','WH-1',1,'2026-12-02T21:01:14.755Z','2026-12-02T21:01:14.755Z',422,'40012','stock already allocated','rq-2',0);
INSERT INTO "attempts" VALUES(3,1,3,'SHP-0003','WH-1',1,'2026-12-02T21:01:14.755Z','2026-12-02T21:01:14.755Z',503,'','unavailable','rq-3a',0);
INSERT INTO "attempts" VALUES(4,1,3,'SHP-0003','WH-1',2,'2026-12-02T21:01:14.755Z','2026-12-02T21:01:14.755Z',200,'','','rq-3b',1);
INSERT INTO "attempts" VALUES(5,1,4,'SHP-0004','WH-1',1,'2026-12-02T21:01:14.755Z','2026-12-02T21:01:14.755Z',NULL,'timeout','no answer within 30 s','',0);
INSERT INTO "attempts" VALUES(6,1,8,'SHP-0001','WH-2',1,'2026-12-02T21:01:14.756Z','2026-12-02T21:01:14.756Z',200,'','','rq-8',1);
INSERT INTO "attempts" VALUES(7,2,2,'SHP-0009','WH-1',1,'2026-12-02T21:01:14.757Z',NULL,NULL,NULL,NULL,NULL,0);
CREATE TABLE ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE outcomes (
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    status        TEXT NOT NULL,
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    attempts      INTEGER NOT NULL,
    request_id    TEXT,
    finished_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, source_row)
);
INSERT INTO "outcomes" VALUES(1,1,'SHP-0001','WH-1','cancelled',200,'','',1,'rq-1','2026-12-01T01:00:01.000Z');
INSERT INTO "outcomes" VALUES(1,2,'SHP-0002','WH-1','rejected',422,'40012','stock already allocated',1,'rq-2','2026-12-01T01:00:02.000Z');
INSERT INTO "outcomes" VALUES(1,3,'SHP-0003','WH-1','cancelled',200,'','',2,'rq-3b','2026-12-01T01:00:03.000Z');
INSERT INTO "outcomes" VALUES(1,4,'SHP-0004','WH-1','failed',NULL,'timeout','no answer within 30 s',1,'','2026-12-01T01:00:04.000Z');
INSERT INTO "outcomes" VALUES(1,5,'SHP-0005','WH-1','invalid',NULL,'cancel_reason_missing','cancel_reason is empty',0,'','2026-12-01T01:00:05.000Z');
INSERT INTO "outcomes" VALUES(1,6,'SHP-0001','WH-1','duplicate',NULL,'duplicate_row','same order as row 1',0,'','2026-12-01T01:00:05.000Z');
INSERT INTO "outcomes" VALUES(1,7,'SHP-0007','WH-2','not_sent',NULL,'api_down','the run stopped',0,'','2026-12-01T01:00:06.000Z');
INSERT INTO "outcomes" VALUES(1,8,'SHP-0001','WH-2','cancelled',200,'','',1,'rq-8','2026-12-01T01:00:07.000Z');
INSERT INTO "outcomes" VALUES(2,1,'SHP-0001','WH-1','skipped',NULL,'already_cancelled','already cancelled at X in run 1',0,'','2026-12-01T02:00:00.000Z');
CREATE TABLE paces (
    endpoint   TEXT PRIMARY KEY,
    rate       REAL NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO "paces" VALUES('abc123',37.5,'2026-12-02T21:01:14.757Z');
CREATE TABLE runs (
    run_id        INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    input_path    TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,   -- '' until the run ends (hashed beside the run)
    options_json  TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    exit_status   INTEGER
);
INSERT INTO "runs" VALUES(1,'2026-12-02T21:01:14.755Z','2026-12-02T21:01:14.756Z','/exports/shopee-night1.csv','abababababababababababababababababababababababababababababababab','{"rate": 5}',1914,1);
INSERT INTO "runs" VALUES(2,'2026-12-02T21:01:14.756Z',NULL,'/exports/tokopedia-night1.csv','','{"rate": 5}',1914,NULL);
CREATE INDEX attempts_by_order ON attempts(order_no, warehouse_id);
CREATE INDEX outcomes_by_order ON outcomes(order_no, warehouse_id);
COMMIT;
PRAGMA user_version=1;
