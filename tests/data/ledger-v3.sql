-- A ledger written by batch-cancel at commit 338ff26 (schema 3, PRAGMA user_version=3):
-- `make demo`'s own ledger (runs 1-5: the real CLI against the sandbox at 127.0.0.1:39299,
-- key `sandbox-demo-key`), then two runs of the real CLI with --rate auto against a second
-- sandbox at 127.0.0.1:35079, same key: run 6 sends the marketplace export there and skips
-- all 7 rows on host 1's cancels (the bug of issue 21), run 7 cancels HOST2-0001 there
-- only. Dumped with sqlite3's iterdump; the demo's paths are rewritten to /exports/.
BEGIN TRANSACTION;
CREATE TABLE attempts (
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    attempt_id    INTEGER NOT NULL, -- increasing over the ledger's life: (run_id << 32) + n
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    sent_at       TEXT NOT NULL,
    answered_at   TEXT,            -- NULL: sent, never answered (killed, or no answer)
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    request_id    TEXT,
    cancelled     INTEGER NOT NULL DEFAULT 0, -- 1: this answer confirmed the order cancelled
    PRIMARY KEY (order_no, warehouse_id, attempt_id)
) WITHOUT ROWID;
INSERT INTO "attempts" VALUES('0001234567','WH-TGR04',8589934601,2,9,1,'2026-12-07T06:54:41.896Z','2026-12-07T06:54:42.201Z',500,'803','Internal Server error.','sbx-b8a63bcd1405469e',0);
INSERT INTO "attempts" VALUES('0001234567','WH-TGR04',8589934606,2,9,2,'2026-12-07T06:54:42.561Z','2026-12-07T06:54:42.712Z',200,'','','sbx-fea8a565317e4a70',1);
INSERT INTO "attempts" VALUES('0024120100077','WH-CKR01',21474836490,5,3,1,'2026-12-07T06:54:49.677Z','2026-12-07T06:54:50.085Z',200,'','','sbx-c5d702d0729e436c',1);
INSERT INTO "attempts" VALUES('2412010000001','WH-CKR01',21474836488,5,1,1,'2026-12-07T06:54:49.474Z','2026-12-07T06:54:49.881Z',200,'','','sbx-8118caa8c8384aca',1);
INSERT INTO "attempts" VALUES('2412010000002','WH-CKR01',21474836489,5,2,1,'2026-12-07T06:54:49.575Z','2026-12-07T06:54:49.984Z',500,'803','Internal Server error.','sbx-af339054693d4d58',0);
INSERT INTO "attempts" VALUES('2412010000002','WH-CKR01',21474836492,5,2,2,'2026-12-07T06:54:50.236Z','2026-12-07T06:54:50.289Z',200,'','','sbx-89efd8b28ba14f36',1);
INSERT INTO "attempts" VALUES('2412010000004','WH-CKR01',21474836491,5,4,1,'2026-12-07T06:54:49.781Z','2026-12-07T06:54:50.188Z',200,'','','sbx-ea821d554bfb4e58',1);
INSERT INTO "attempts" VALUES('738920200001','WH-SBY02',21474836485,5,1,1,'2026-12-07T06:54:49.171Z','2026-12-07T06:54:49.574Z',200,'','','sbx-16d794ed2865470c',1);
INSERT INTO "attempts" VALUES('738920200002','WH-SBY02',21474836486,5,2,1,'2026-12-07T06:54:49.269Z','2026-12-07T06:54:49.677Z',200,'','','sbx-3988af7febcd4039',1);
INSERT INTO "attempts" VALUES('738920200003','WH-SBY02',21474836487,5,3,1,'2026-12-07T06:54:49.372Z','2026-12-07T06:54:49.780Z',200,'','','sbx-5bf338bb437444fb',1);
INSERT INTO "attempts" VALUES('HOST2-0001','WH-TGR04',30064771073,7,1,1,'2026-12-07T06:54:51.049Z','2026-12-07T06:54:51.091Z',200,'','','sbx-bb32145ddfe14acb',1);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',4294967300,1,4,1,'2026-12-07T06:54:41.071Z','2026-12-07T06:54:41.114Z',NULL,'run_interrupted','not sent: the run stopped','',0);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',8589934596,2,4,1,'2026-12-07T06:54:41.347Z','2026-12-07T06:54:41.693Z',500,'803','Internal Server error.','sbx-5803ec8f7f884b2d',0);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',8589934602,2,4,2,'2026-12-07T06:54:42.056Z','2026-12-07T06:54:42.098Z',200,'','','sbx-65b42fb284794b5f',1);
INSERT INTO "attempts" VALUES('LZD-738920114587','WH-CKR01',8589934603,2,11,1,'2026-12-07T06:54:42.098Z','2026-12-07T06:54:42.405Z',500,'803','Internal Server error.','sbx-e58607026e0f4228',0);
INSERT INTO "attempts" VALUES('LZD-738920114587','WH-CKR01',8589934609,2,11,2,'2026-12-07T06:54:42.804Z','2026-12-07T06:54:43.017Z',200,'','','sbx-2539e402b987435a',1);
INSERT INTO "attempts" VALUES('LZD-738920114603','WH-TGR04',12884901889,3,1,1,'2026-12-07T06:54:46.007Z','2026-12-07T06:54:46.049Z',200,'','','sbx-d741fc922d1e4a7f',1);
INSERT INTO "attempts" VALUES('LZD-738920114619','WH-SBY02',8589934615,2,21,1,'2026-12-07T06:54:43.222Z','2026-12-07T06:54:43.630Z',400,'9003','Order cannot be cancelled: order is SHIPPED.','sbx-48d83300235746b8',0);
INSERT INTO "attempts" VALUES('LZD-738920114619','WH-SBY02',17179869189,4,21,1,'2026-12-07T06:54:46.933Z','2026-12-07T06:54:47.336Z',400,'9003','Order cannot be cancelled: order is SHIPPED.','sbx-0c500878abd647b0',0);
INSERT INTO "attempts" VALUES('LZD-738920114655','WH-CKR01',8589934618,2,25,1,'2026-12-07T06:54:43.630Z','2026-12-07T06:54:43.936Z',200,'','','sbx-d016a693f1124447',1);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',8589934624,2,32,1,'2026-12-07T06:54:44.139Z','2026-12-07T06:54:44.548Z',500,'803','Internal Server error.','sbx-689c753e5da84a00',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',8589934629,2,32,2,'2026-12-07T06:54:44.817Z','2026-12-07T06:54:45.057Z',500,'803','Internal Server error.','sbx-67adb7e0f07c4ac4',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',8589934636,2,32,3,'2026-12-07T06:54:45.631Z','2026-12-07T06:54:45.771Z',500,'803','Internal Server error.','sbx-c3cf3bf3a80b4ce9',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',17179869191,4,32,1,'2026-12-07T06:54:47.134Z','2026-12-07T06:54:47.540Z',500,'803','Internal Server error.','sbx-9803b77efd874dbc',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',17179869194,4,32,2,'2026-12-07T06:54:47.985Z','2026-12-07T06:54:48.027Z',500,'803','Internal Server error.','sbx-1e47f4bf134e4a2d',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',17179869195,4,32,3,'2026-12-07T06:54:48.636Z','2026-12-07T06:54:48.678Z',500,'803','Internal Server error.','sbx-7a2b39f3de704e9d',0);
INSERT INTO "attempts" VALUES('LZD-738920114698','WH-SBY02',8589934627,2,35,1,'2026-12-07T06:54:44.446Z','2026-12-07T06:54:44.854Z',500,'803','Internal Server error.','sbx-ded7ccd9f53d45da',0);
INSERT INTO "attempts" VALUES('LZD-738920114698','WH-SBY02',8589934634,2,35,2,'2026-12-07T06:54:45.271Z','2026-12-07T06:54:45.568Z',200,'','','sbx-765de9a878454ca2',1);
INSERT INTO "attempts" VALUES('LZD-738920114702','WH-CKR01',8589934632,2,38,1,'2026-12-07T06:54:45.160Z','2026-12-07T06:54:45.363Z',200,'','','sbx-488c5d1738724db9',1);
INSERT INTO "attempts" VALUES('SHP-24112600A7','WH-CKR01',4294967299,1,3,1,'2026-12-07T06:54:41.071Z','2026-12-07T06:54:41.114Z',NULL,'run_interrupted','not sent: the run stopped','',0);
INSERT INTO "attempts" VALUES('SHP-24112600A7','WH-CKR01',8589934595,2,3,1,'2026-12-07T06:54:41.347Z','2026-12-07T06:54:41.590Z',200,'','','sbx-b1de064b34124094',1);
INSERT INTO "attempts" VALUES('SHP-24112600B2','WH-TGR04',8589934600,2,8,1,'2026-12-07T06:54:41.793Z','2026-12-07T06:54:42.303Z',200,'','','sbx-e324b8228e724145',1);
INSERT INTO "attempts" VALUES('SHP-24112600C9','WH-CKR01',8589934614,2,20,1,'2026-12-07T06:54:43.120Z','2026-12-07T06:54:43.528Z',500,'803','Internal Server error.','sbx-1994591ae89b4cf3',0);
INSERT INTO "attempts" VALUES('SHP-24112600C9','WH-CKR01',8589934620,2,20,2,'2026-12-07T06:54:43.779Z','2026-12-07T06:54:44.139Z',200,'','','sbx-2aa9ff75dcd74dc6',1);
INSERT INTO "attempts" VALUES('SHP-24112600D4','WH-SBY02',8589934612,2,18,1,'2026-12-07T06:54:42.915Z','2026-12-07T06:54:43.323Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-37249f8adca54a3e',0);
INSERT INTO "attempts" VALUES('SHP-24112600D4','WH-SBY02',17179869188,4,18,1,'2026-12-07T06:54:46.890Z','2026-12-07T06:54:47.234Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-a07d6fe7b4cd42a0',0);
INSERT INTO "attempts" VALUES('SHP-24112600E1','WH-TGR04',12884901890,3,2,1,'2026-12-07T06:54:46.007Z','2026-12-07T06:54:46.146Z',200,'','','sbx-5b120cabf7c847ee',1);
INSERT INTO "attempts" VALUES('SHP-24112600F6','WH-CKR01',8589934617,2,23,1,'2026-12-07T06:54:43.426Z','2026-12-07T06:54:43.833Z',200,'','','sbx-a84225265774485d',1);
INSERT INTO "attempts" VALUES('SHP-24112601A3','WH-TGR04',8589934622,2,29,1,'2026-12-07T06:54:43.936Z','2026-12-07T06:54:44.344Z',200,'','','sbx-2a48662621ed4d00',1);
INSERT INTO "attempts" VALUES('SHP-24112601B8','WH-SBY02',8589934625,2,33,1,'2026-12-07T06:54:44.242Z','2026-12-07T06:54:44.650Z',200,'','','sbx-ff141047e0a84095',1);
INSERT INTO "attempts" VALUES('SHP-24112601C5','WH-CKR01',8589934628,2,36,1,'2026-12-07T06:54:44.651Z','2026-12-07T06:54:44.956Z',200,'','','sbx-0fb440fff8444496',1);
INSERT INTO "attempts" VALUES('SHP-24112601D0','WH-TGR04',12884901891,3,3,1,'2026-12-07T06:54:46.007Z','2026-12-07T06:54:46.248Z',200,'','','sbx-b7ec707684294e3b',1);
INSERT INTO "attempts" VALUES('TKP-2411260001','WH-TGR04',4294967297,1,1,1,'2026-12-07T06:54:41.071Z','2026-12-07T06:54:41.114Z',401,'802','Unauthorized Access. You are not authorized to access this resource.','sbx-453727ece62b4aaf',0);
INSERT INTO "attempts" VALUES('TKP-2411260001','WH-TGR04',8589934593,2,1,1,'2026-12-07T06:54:41.347Z','2026-12-07T06:54:41.390Z',200,'','','sbx-13351a6e9a484f19',1);
INSERT INTO "attempts" VALUES('TKP-2411260002','WH-TGR04',4294967298,1,2,1,'2026-12-07T06:54:41.071Z','2026-12-07T06:54:41.114Z',NULL,'run_interrupted','not sent: the run stopped','',0);
INSERT INTO "attempts" VALUES('TKP-2411260002','WH-TGR04',8589934594,2,2,1,'2026-12-07T06:54:41.347Z','2026-12-07T06:54:41.487Z',200,'','','sbx-11287001f3a04d51',1);
INSERT INTO "attempts" VALUES('TKP-2411260003','WH-CKR01',8589934599,2,7,1,'2026-12-07T06:54:41.590Z','2026-12-07T06:54:41.999Z',500,'803','Internal Server error.','sbx-4a0f9e66ec614839',0);
INSERT INTO "attempts" VALUES('TKP-2411260003','WH-CKR01',8589934605,2,7,2,'2026-12-07T06:54:42.473Z','2026-12-07T06:54:42.609Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-a4a4dd1865284570',0);
INSERT INTO "attempts" VALUES('TKP-2411260003','WH-CKR01',17179869186,4,7,1,'2026-12-07T06:54:46.890Z','2026-12-07T06:54:47.031Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-8208eb5f2343428c',0);
INSERT INTO "attempts" VALUES('TKP-2411260004','WH-SBY02',8589934607,2,14,1,'2026-12-07T06:54:42.609Z','2026-12-07T06:54:42.815Z',200,'','','sbx-238c98514cf44db0',1);
INSERT INTO "attempts" VALUES('TKP-2411260005','WH-TGR04',8589934608,2,15,1,'2026-12-07T06:54:42.712Z','2026-12-07T06:54:42.915Z',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).','sbx-7b0730fae3a440c1',0);
INSERT INTO "attempts" VALUES('TKP-2411260005','WH-TGR04',17179869187,4,15,1,'2026-12-07T06:54:46.890Z','2026-12-07T06:54:47.133Z',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).','sbx-73a0a6800b8948c4',0);
INSERT INTO "attempts" VALUES('TKP-2411260006','WH-CKR01',8589934613,2,19,1,'2026-12-07T06:54:43.017Z','2026-12-07T06:54:43.426Z',200,'','','sbx-fd18aea8794149e8',1);
INSERT INTO "attempts" VALUES('TKP-2411260007','WH-TGR04',12884901892,3,4,1,'2026-12-07T06:54:46.007Z','2026-12-07T06:54:46.351Z',200,'','','sbx-4eb8327630f44fcb',1);
INSERT INTO "attempts" VALUES('TKP-2411260008','WH-SBY02',8589934616,2,22,1,'2026-12-07T06:54:43.323Z','2026-12-07T06:54:43.732Z',200,'','','sbx-ea287416fe3643a5',1);
INSERT INTO "attempts" VALUES('TKP-2411260009','WH-TGR04',8589934619,2,26,1,'2026-12-07T06:54:43.732Z','2026-12-07T06:54:44.040Z',400,'9002','Order is already cancelled.','sbx-43b669fcc28b4bf4',0);
INSERT INTO "attempts" VALUES('TKP-2411260009','WH-TGR04',17179869190,4,26,1,'2026-12-07T06:54:47.031Z','2026-12-07T06:54:47.438Z',500,'803','Internal Server error.','sbx-67c78846e00e46d9',0);
INSERT INTO "attempts" VALUES('TKP-2411260009','WH-TGR04',17179869193,4,26,2,'2026-12-07T06:54:47.725Z','2026-12-07T06:54:47.767Z',400,'9002','Order is already cancelled.','sbx-5630ff008f754508',0);
INSERT INTO "attempts" VALUES('TKP-2411260010','WH-CKR01',8589934623,2,31,1,'2026-12-07T06:54:44.040Z','2026-12-07T06:54:44.446Z',200,'','','sbx-c7f72a0e7ba9495a',1);
INSERT INTO "attempts" VALUES('TKP-2411260011','WH-TGR04',12884901893,3,5,1,'2026-12-07T06:54:46.049Z','2026-12-07T06:54:46.453Z',200,'','','sbx-828baed684a9451f',1);
INSERT INTO "attempts" VALUES('TKP-2411260012','WH-SBY02',8589934630,2,37,1,'2026-12-07T06:54:44.956Z','2026-12-07T06:54:45.160Z',200,'','','sbx-5a1726a47ee647ad',1);
INSERT INTO "attempts" VALUES('TKP-2411260013','WH-CKR01',8589934633,2,39,1,'2026-12-07T06:54:45.263Z','2026-12-07T06:54:45.466Z',200,'','','sbx-0448732ebe2e4705',1);
INSERT INTO "attempts" VALUES('TKP-2411269999','WH-TGR04',8589934598,2,6,1,'2026-12-07T06:54:41.488Z','2026-12-07T06:54:41.896Z',400,'3012','Order Doesn''t Exist in WMS and OMS.','sbx-792c6da857e74e69',0);
INSERT INTO "attempts" VALUES('TKP-2411269999','WH-TGR04',17179869185,4,6,1,'2026-12-07T06:54:46.890Z','2026-12-07T06:54:46.933Z',400,'3012','Order Doesn''t Exist in WMS and OMS.','sbx-18c24fe0b82f46a5',0);
INSERT INTO "attempts" VALUES('TKP-2412010001','WH-TGR04',21474836481,5,1,1,'2026-12-07T06:54:49.129Z','2026-12-07T06:54:49.171Z',200,'','','sbx-7b0a17d62e8d4c35',1);
INSERT INTO "attempts" VALUES('TKP-2412010002','WH-TGR04',21474836482,5,2,1,'2026-12-07T06:54:49.129Z','2026-12-07T06:54:49.269Z',200,'','','sbx-f5fa20d7171049a1',1);
INSERT INTO "attempts" VALUES('TKP-2412010003','WH-TGR04',21474836483,5,3,1,'2026-12-07T06:54:49.129Z','2026-12-07T06:54:49.371Z',200,'','','sbx-d5165e14ed034c38',1);
INSERT INTO "attempts" VALUES('TKP-2412010004','WH-TGR04',21474836484,5,2,1,'2026-12-07T06:54:49.129Z','2026-12-07T06:54:49.474Z',200,'','','sbx-f8e0b4042ae94b87',1);
INSERT INTO "attempts" VALUES('TTS-576912384410257731','WH-TGR04',8589934597,2,5,1,'2026-12-07T06:54:41.390Z','2026-12-07T06:54:41.793Z',200,'','','sbx-1f8574f80583460a',1);
INSERT INTO "attempts" VALUES('TTS-576912384410258104','WH-SBY02',8589934604,2,12,1,'2026-12-07T06:54:42.303Z','2026-12-07T06:54:42.507Z',500,'803','Internal Server error.','sbx-6082eb442de8433d',0);
INSERT INTO "attempts" VALUES('TTS-576912384410258104','WH-SBY02',8589934611,2,12,2,'2026-12-07T06:54:42.890Z','2026-12-07T06:54:43.222Z',200,'','','sbx-4620ab1401e444d9',1);
INSERT INTO "attempts" VALUES('TTS-576912384410258390','WH-CKR01',8589934610,2,17,1,'2026-12-07T06:54:42.815Z','2026-12-07T06:54:43.119Z',200,'','','sbx-3f58939233164dde',1);
INSERT INTO "attempts" VALUES('TTS-576912384410258877','WH-TGR04',12884901894,3,6,1,'2026-12-07T06:54:46.146Z','2026-12-07T06:54:46.556Z',200,'','','sbx-67217f75c82b459d',1);
INSERT INTO "attempts" VALUES('TTS-576912384410259012','WH-SBY02',8589934621,2,28,1,'2026-12-07T06:54:43.833Z','2026-12-07T06:54:44.241Z',200,'','','sbx-634833f9c96c4fcd',1);
INSERT INTO "attempts" VALUES('TTS-576912384410259265','WH-CKR01',8589934626,2,34,1,'2026-12-07T06:54:44.344Z','2026-12-07T06:54:44.751Z',500,'803','Internal Server error.','sbx-251fa71a0b064549',0);
INSERT INTO "attempts" VALUES('TTS-576912384410259265','WH-CKR01',8589934631,2,34,2,'2026-12-07T06:54:45.104Z','2026-12-07T06:54:45.263Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-5fa29bb3286d4eb4',0);
INSERT INTO "attempts" VALUES('TTS-576912384410259265','WH-CKR01',17179869192,4,34,1,'2026-12-07T06:54:47.234Z','2026-12-07T06:54:47.643Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-9cf60f5791be4279',0);
INSERT INTO "attempts" VALUES('TTS-576912384410259548','WH-TGR04',12884901895,3,7,1,'2026-12-07T06:54:46.248Z','2026-12-07T06:54:46.656Z',200,'','','sbx-a046b3dcad164d47',1);
INSERT INTO "attempts" VALUES('TTS-576912384410259731','WH-SBY02',8589934635,2,40,1,'2026-12-07T06:54:45.363Z','2026-12-07T06:54:45.671Z',200,'','','sbx-ecf5825bf2ad4e28',1);
CREATE TABLE ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "ledger_meta" VALUES('kept_since','2026-06-10T06:54:41.116Z');
CREATE TABLE outcomes (
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,            -- NULL on `skipped` rows of schema 2 (skips holds the new)
    attempts      INTEGER NOT NULL,
    request_id    TEXT,
    finished_at   TEXT NOT NULL,
    PRIMARY KEY (order_no, warehouse_id, run_id, source_row)
) WITHOUT ROWID;
INSERT INTO "outcomes" VALUES('','',1,10,'invalid',NULL,'order_no_missing','order_no is blank',0,'','2026-12-07T06:54:41.071Z');
INSERT INTO "outcomes" VALUES('','',1,16,'invalid',NULL,'warehouse_id_too_long','warehouse_id is 23 characters; the API allows at most 20',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('','',1,24,'invalid',NULL,'cancel_reason_missing','cancel_reason is blank',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('','',1,30,'invalid',NULL,'order_no_too_long','order_no is 57 characters; the API allows at most 50',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('','',2,10,'invalid',NULL,'order_no_missing','order_no is blank',0,'','2026-12-07T06:54:41.347Z');
INSERT INTO "outcomes" VALUES('','',2,16,'invalid',NULL,'warehouse_id_too_long','warehouse_id is 23 characters; the API allows at most 20',0,'','2026-12-07T06:54:41.390Z');
INSERT INTO "outcomes" VALUES('','',2,24,'invalid',NULL,'cancel_reason_missing','cancel_reason is blank',0,'','2026-12-07T06:54:42.609Z');
INSERT INTO "outcomes" VALUES('','',2,30,'invalid',NULL,'order_no_too_long','order_no is 57 characters; the API allows at most 50',0,'','2026-12-07T06:54:43.017Z');
INSERT INTO "outcomes" VALUES('','',4,10,'invalid',NULL,'order_no_missing','order_no is blank',0,'','2026-12-07T06:54:46.890Z');
INSERT INTO "outcomes" VALUES('','',4,16,'invalid',NULL,'warehouse_id_too_long','warehouse_id is 23 characters; the API allows at most 20',0,'','2026-12-07T06:54:46.890Z');
INSERT INTO "outcomes" VALUES('','',4,24,'invalid',NULL,'cancel_reason_missing','cancel_reason is blank',0,'','2026-12-07T06:54:46.890Z');
INSERT INTO "outcomes" VALUES('','',4,30,'invalid',NULL,'order_no_too_long','order_no is 57 characters; the API allows at most 50',0,'','2026-12-07T06:54:46.890Z');
INSERT INTO "outcomes" VALUES('0001234567','WH-TGR04',1,9,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('0001234567','WH-TGR04',2,9,'cancelled',200,'','',2,'sbx-fea8a565317e4a70','2026-12-07T06:54:42.712Z');
INSERT INTO "outcomes" VALUES('0024120100077','WH-CKR01',5,3,'cancelled',200,'','',1,'sbx-c5d702d0729e436c','2026-12-07T06:54:50.085Z');
INSERT INTO "outcomes" VALUES('2412010000001','WH-CKR01',5,1,'cancelled',200,'','',1,'sbx-8118caa8c8384aca','2026-12-07T06:54:49.881Z');
INSERT INTO "outcomes" VALUES('2412010000002','WH-CKR01',5,2,'cancelled',200,'','',2,'sbx-89efd8b28ba14f36','2026-12-07T06:54:50.289Z');
INSERT INTO "outcomes" VALUES('2412010000004','WH-CKR01',5,4,'cancelled',200,'','',1,'sbx-ea821d554bfb4e58','2026-12-07T06:54:50.188Z');
INSERT INTO "outcomes" VALUES('738920200001','WH-SBY02',5,1,'cancelled',200,'','',1,'sbx-16d794ed2865470c','2026-12-07T06:54:49.574Z');
INSERT INTO "outcomes" VALUES('738920200002','WH-SBY02',5,2,'cancelled',200,'','',1,'sbx-3988af7febcd4039','2026-12-07T06:54:49.677Z');
INSERT INTO "outcomes" VALUES('738920200003','WH-SBY02',5,3,'cancelled',200,'','',1,'sbx-5bf338bb437444fb','2026-12-07T06:54:49.780Z');
INSERT INTO "outcomes" VALUES('HOST2-0001','WH-TGR04',7,1,'cancelled',200,'','',1,'sbx-bb32145ddfe14acb','2026-12-07T06:54:51.091Z');
INSERT INTO "outcomes" VALUES('LZD-738920114562','WH-SBY02',1,4,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114562','WH-SBY02',2,4,'cancelled',200,'','',2,'sbx-65b42fb284794b5f','2026-12-07T06:54:42.098Z');
INSERT INTO "outcomes" VALUES('LZD-738920114587','WH-CKR01',1,11,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114587','WH-CKR01',2,11,'cancelled',200,'','',2,'sbx-2539e402b987435a','2026-12-07T06:54:43.017Z');
INSERT INTO "outcomes" VALUES('LZD-738920114603','WH-TGR04',3,1,'cancelled',200,'','',1,'sbx-d741fc922d1e4a7f','2026-12-07T06:54:46.049Z');
INSERT INTO "outcomes" VALUES('LZD-738920114619','WH-SBY02',1,21,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114619','WH-SBY02',2,21,'rejected',400,'9003','Order cannot be cancelled: order is SHIPPED.',1,'sbx-48d83300235746b8','2026-12-07T06:54:43.630Z');
INSERT INTO "outcomes" VALUES('LZD-738920114619','WH-SBY02',4,21,'rejected',400,'9003','Order cannot be cancelled: order is SHIPPED.',1,'sbx-0c500878abd647b0','2026-12-07T06:54:47.336Z');
INSERT INTO "outcomes" VALUES('LZD-738920114655','WH-CKR01',1,25,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114655','WH-CKR01',2,25,'cancelled',200,'','',1,'sbx-d016a693f1124447','2026-12-07T06:54:43.936Z');
INSERT INTO "outcomes" VALUES('LZD-738920114671','WH-TGR04',1,32,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114671','WH-TGR04',2,32,'failed',500,'803','gave up after 3 attempt(s): Internal Server error.',3,'sbx-c3cf3bf3a80b4ce9','2026-12-07T06:54:45.771Z');
INSERT INTO "outcomes" VALUES('LZD-738920114671','WH-TGR04',4,32,'failed',500,'803','gave up after 3 attempt(s): Internal Server error.',3,'sbx-7a2b39f3de704e9d','2026-12-07T06:54:48.678Z');
INSERT INTO "outcomes" VALUES('LZD-738920114698','WH-SBY02',1,35,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114698','WH-SBY02',2,35,'cancelled',200,'','',2,'sbx-765de9a878454ca2','2026-12-07T06:54:45.568Z');
INSERT INTO "outcomes" VALUES('LZD-738920114702','WH-CKR01',1,38,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('LZD-738920114702','WH-CKR01',2,38,'cancelled',200,'','',1,'sbx-488c5d1738724db9','2026-12-07T06:54:45.363Z');
INSERT INTO "outcomes" VALUES('SHP-24112600A7','WH-CKR01',1,3,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112600A7','WH-CKR01',2,3,'cancelled',200,'','',1,'sbx-b1de064b34124094','2026-12-07T06:54:41.590Z');
INSERT INTO "outcomes" VALUES('SHP-24112600B2','WH-TGR04',1,8,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112600B2','WH-TGR04',2,8,'cancelled',200,'','',1,'sbx-e324b8228e724145','2026-12-07T06:54:42.303Z');
INSERT INTO "outcomes" VALUES('SHP-24112600C9','WH-CKR01',1,20,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112600C9','WH-CKR01',2,20,'cancelled',200,'','cancel_reason_shortened: cancel_reason was 80 characters, sent its first 50',2,'sbx-2aa9ff75dcd74dc6','2026-12-07T06:54:44.139Z');
INSERT INTO "outcomes" VALUES('SHP-24112600D4','WH-SBY02',1,18,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112600D4','WH-SBY02',2,18,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-37249f8adca54a3e','2026-12-07T06:54:43.323Z');
INSERT INTO "outcomes" VALUES('SHP-24112600D4','WH-SBY02',4,18,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-a07d6fe7b4cd42a0','2026-12-07T06:54:47.234Z');
INSERT INTO "outcomes" VALUES('SHP-24112600E1','WH-TGR04',3,2,'cancelled',200,'','',1,'sbx-5b120cabf7c847ee','2026-12-07T06:54:46.146Z');
INSERT INTO "outcomes" VALUES('SHP-24112600F6','WH-CKR01',1,23,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112600F6','WH-CKR01',2,23,'cancelled',200,'','',1,'sbx-a84225265774485d','2026-12-07T06:54:43.833Z');
INSERT INTO "outcomes" VALUES('SHP-24112601A3','WH-TGR04',1,29,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112601A3','WH-TGR04',2,29,'cancelled',200,'','',1,'sbx-2a48662621ed4d00','2026-12-07T06:54:44.344Z');
INSERT INTO "outcomes" VALUES('SHP-24112601B8','WH-SBY02',1,33,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112601B8','WH-SBY02',2,33,'cancelled',200,'','',1,'sbx-ff141047e0a84095','2026-12-07T06:54:44.650Z');
INSERT INTO "outcomes" VALUES('SHP-24112601C5','WH-CKR01',1,36,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('SHP-24112601C5','WH-CKR01',2,36,'cancelled',200,'','',1,'sbx-0fb440fff8444496','2026-12-07T06:54:44.956Z');
INSERT INTO "outcomes" VALUES('SHP-24112601D0','WH-TGR04',3,3,'cancelled',200,'','',1,'sbx-b7ec707684294e3b','2026-12-07T06:54:46.248Z');
INSERT INTO "outcomes" VALUES('TKP-2411260001','WH-TGR04',1,1,'rejected',401,'802','Unauthorized Access. You are not authorized to access this resource.',1,'sbx-453727ece62b4aaf','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260001','WH-TGR04',2,1,'cancelled',200,'','',1,'sbx-13351a6e9a484f19','2026-12-07T06:54:41.390Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',1,2,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',1,13,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 2',0,'','2026-12-07T06:54:41.071Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',2,2,'cancelled',200,'','',1,'sbx-11287001f3a04d51','2026-12-07T06:54:41.487Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',2,13,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 2',0,'','2026-12-07T06:54:41.347Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',4,13,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 2',0,'','2026-12-07T06:54:46.890Z');
INSERT INTO "outcomes" VALUES('TKP-2411260003','WH-CKR01',1,7,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260003','WH-CKR01',2,7,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',2,'sbx-a4a4dd1865284570','2026-12-07T06:54:42.609Z');
INSERT INTO "outcomes" VALUES('TKP-2411260003','WH-CKR01',4,7,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-8208eb5f2343428c','2026-12-07T06:54:47.031Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',1,14,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',1,27,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 14',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',2,14,'cancelled',200,'','',1,'sbx-238c98514cf44db0','2026-12-07T06:54:42.815Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',2,27,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 14',0,'','2026-12-07T06:54:42.815Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',4,27,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 14',0,'','2026-12-07T06:54:46.890Z');
INSERT INTO "outcomes" VALUES('TKP-2411260005','WH-TGR04',1,15,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260005','WH-TGR04',2,15,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).',1,'sbx-7b0730fae3a440c1','2026-12-07T06:54:42.915Z');
INSERT INTO "outcomes" VALUES('TKP-2411260005','WH-TGR04',4,15,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).',1,'sbx-73a0a6800b8948c4','2026-12-07T06:54:47.133Z');
INSERT INTO "outcomes" VALUES('TKP-2411260006','WH-CKR01',1,19,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260006','WH-CKR01',2,19,'cancelled',200,'','',1,'sbx-fd18aea8794149e8','2026-12-07T06:54:43.426Z');
INSERT INTO "outcomes" VALUES('TKP-2411260007','WH-TGR04',3,4,'cancelled',200,'','',1,'sbx-4eb8327630f44fcb','2026-12-07T06:54:46.351Z');
INSERT INTO "outcomes" VALUES('TKP-2411260008','WH-SBY02',1,22,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260008','WH-SBY02',2,22,'cancelled',200,'','',1,'sbx-ea287416fe3643a5','2026-12-07T06:54:43.732Z');
INSERT INTO "outcomes" VALUES('TKP-2411260009','WH-TGR04',1,26,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260009','WH-TGR04',2,26,'rejected',400,'9002','Order is already cancelled.',1,'sbx-43b669fcc28b4bf4','2026-12-07T06:54:44.040Z');
INSERT INTO "outcomes" VALUES('TKP-2411260009','WH-TGR04',4,26,'rejected',400,'9002','Order is already cancelled.',2,'sbx-5630ff008f754508','2026-12-07T06:54:47.767Z');
INSERT INTO "outcomes" VALUES('TKP-2411260010','WH-CKR01',1,31,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260010','WH-CKR01',2,31,'cancelled',200,'','',1,'sbx-c7f72a0e7ba9495a','2026-12-07T06:54:44.446Z');
INSERT INTO "outcomes" VALUES('TKP-2411260011','WH-TGR04',3,5,'cancelled',200,'','',1,'sbx-828baed684a9451f','2026-12-07T06:54:46.453Z');
INSERT INTO "outcomes" VALUES('TKP-2411260012','WH-SBY02',1,37,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260012','WH-SBY02',2,37,'cancelled',200,'','',1,'sbx-5a1726a47ee647ad','2026-12-07T06:54:45.160Z');
INSERT INTO "outcomes" VALUES('TKP-2411260013','WH-CKR01',1,39,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411260013','WH-CKR01',2,39,'cancelled',200,'','',1,'sbx-0448732ebe2e4705','2026-12-07T06:54:45.466Z');
INSERT INTO "outcomes" VALUES('TKP-2411269999','WH-TGR04',1,6,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TKP-2411269999','WH-TGR04',2,6,'rejected',400,'3012','Order Doesn''t Exist in WMS and OMS.',1,'sbx-792c6da857e74e69','2026-12-07T06:54:41.896Z');
INSERT INTO "outcomes" VALUES('TKP-2411269999','WH-TGR04',4,6,'rejected',400,'3012','Order Doesn''t Exist in WMS and OMS.',1,'sbx-18c24fe0b82f46a5','2026-12-07T06:54:46.933Z');
INSERT INTO "outcomes" VALUES('TKP-2412010001','WH-TGR04',5,1,'cancelled',200,'','',1,'sbx-7b0a17d62e8d4c35','2026-12-07T06:54:49.171Z');
INSERT INTO "outcomes" VALUES('TKP-2412010002','WH-TGR04',5,2,'cancelled',200,'','',1,'sbx-f5fa20d7171049a1','2026-12-07T06:54:49.269Z');
INSERT INTO "outcomes" VALUES('TKP-2412010003','WH-TGR04',5,1,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 3 of tokopedia-20261201-a.csv',0,'','2026-12-07T06:54:49.128Z');
INSERT INTO "outcomes" VALUES('TKP-2412010003','WH-TGR04',5,3,'cancelled',200,'','',1,'sbx-d5165e14ed034c38','2026-12-07T06:54:49.371Z');
INSERT INTO "outcomes" VALUES('TKP-2412010004','WH-TGR04',5,2,'cancelled',200,'','',1,'sbx-f8e0b4042ae94b87','2026-12-07T06:54:49.474Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410257731','WH-TGR04',1,5,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410257731','WH-TGR04',2,5,'cancelled',200,'','',1,'sbx-1f8574f80583460a','2026-12-07T06:54:41.793Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258104','WH-SBY02',1,12,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258104','WH-SBY02',2,12,'cancelled',200,'','',2,'sbx-4620ab1401e444d9','2026-12-07T06:54:43.222Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258390','WH-CKR01',1,17,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258390','WH-CKR01',2,17,'cancelled',200,'','',1,'sbx-3f58939233164dde','2026-12-07T06:54:43.119Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258877','WH-TGR04',3,6,'cancelled',200,'','',1,'sbx-67217f75c82b459d','2026-12-07T06:54:46.556Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259012','WH-SBY02',1,28,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259012','WH-SBY02',2,28,'cancelled',200,'','',1,'sbx-634833f9c96c4fcd','2026-12-07T06:54:44.241Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259265','WH-CKR01',1,34,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259265','WH-CKR01',2,34,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',2,'sbx-5fa29bb3286d4eb4','2026-12-07T06:54:45.263Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259265','WH-CKR01',4,34,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-9cf60f5791be4279','2026-12-07T06:54:47.643Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259548','WH-TGR04',3,7,'cancelled',200,'','',1,'sbx-a046b3dcad164d47','2026-12-07T06:54:46.656Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259731','WH-SBY02',1,40,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-07T06:54:41.114Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259731','WH-SBY02',2,40,'cancelled',200,'','',1,'sbx-ecf5825bf2ad4e28','2026-12-07T06:54:45.671Z');
CREATE TABLE paces (
    endpoint   TEXT PRIMARY KEY,
    rate       REAL NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO "paces" VALUES('aafbddfa2946d394d0eeadd4f1e8e208',5.5649075409864128261e+00,'2026-12-07T06:54:51.092Z');
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
INSERT INTO "runs" VALUES(1,'2026-12-07T06:54:40.972Z','2026-12-07T06:54:41.116Z','/exports/nightly-export.csv','f505a1b5fecf722af41c589b0654e53176be9176d46f49090091f71e004eed14','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:39299", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/nightly-export.csv", "output": "/exports/wrong-key.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',9215,3);
INSERT INTO "runs" VALUES(2,'2026-12-07T06:54:41.249Z','2026-12-07T06:54:45.775Z','/exports/nightly-export.csv','f505a1b5fecf722af41c589b0654e53176be9176d46f49090091f71e004eed14','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:39299", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/nightly-export.csv", "output": "/exports/nightly-export.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',9217,1);
INSERT INTO "runs" VALUES(3,'2026-12-07T06:54:45.909Z','2026-12-07T06:54:46.658Z','/exports/marketplace-export.csv','32cb7e9ad17f8d73574a0d8e20091ac088c5b6f50b31f50590f6eae09c6d5fe4','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:39299", "concurrency": 4, "files": [{"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "No. Pesanan"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/marketplace-export.csv", "output": "/exports/marketplace-export.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',9219,0);
INSERT INTO "runs" VALUES(4,'2026-12-07T06:54:46.792Z','2026-12-07T06:54:48.680Z','/exports/nightly-export.csv','f505a1b5fecf722af41c589b0654e53176be9176d46f49090091f71e004eed14','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:39299", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/nightly-export.csv", "output": "/exports/nightly-export.rerun.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',9221,1);
INSERT INTO "runs" VALUES(5,'2026-12-07T06:54:49.028Z','2026-12-07T06:54:50.291Z','/exports/tokopedia-20261201-a.csv + /exports/tokopedia-20261201-b.csv + /exports/lazada-20261201.csv + /exports/shopee-20261201.xlsx','ce0a89f19334419f708078900310e8d98b5e65b0997f6d304692c0b7b5da9da1,9e5351255f82a5df7ae595d105832a7cd44b0b9e3280f7cc26e357a9441c50bb,edcd8cdbf4fc0b83d5843d4110dab6912f10e6ad348e8703cdb7a1cb314f51b4,e6d02997f6d79f5672736fb325d9cea47aeda388d9e4923641aafaaef2cc8c66','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:39299", "concurrency": 4, "files": [{"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "Nomor Invoice"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/tokopedia-20261201-a.csv", "output": "/exports/tokopedia-20261201-a.results.csv", "source": "tokopedia"}, {"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "Nomor Invoice"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/tokopedia-20261201-b.csv", "output": "/exports/tokopedia-20261201-b.results.csv", "source": "tokopedia"}, {"column_map": {"cancel_reason": "Cancel Reason", "order_no": "Order Number", "warehouse_id": "Warehouse"}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/lazada-20261201.csv", "output": "/exports/lazada-20261201.results.csv", "source": "lazada"}, {"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "No. Pesanan"}, "default_cancel_reason": "Cancelled from marketplace", "default_warehouse_id": "WH-CKR01", "input": "/exports/shopee-20261201.xlsx", "output": "/exports/shopee-20261201.results.csv", "source": "shopee"}], "force_resend": false, "max_attempts": 5, "rate": 10, "timeout_s": 30.0}',9223,0);
INSERT INTO "runs" VALUES(6,'2026-12-07T06:54:50.720Z','2026-12-07T06:54:50.724Z','/exports/marketplace-export.csv','32cb7e9ad17f8d73574a0d8e20091ac088c5b6f50b31f50590f6eae09c6d5fe4','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:35079", "concurrency": 4, "files": [{"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "No. Pesanan"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/marketplace-export.csv", "output": "/exports/host2-marketplace.results.csv", "source": ""}], "force_resend": false, "max_attempts": 5, "rate": 50.0, "timeout_s": 30.0}',9233,0);
INSERT INTO "runs" VALUES(7,'2026-12-07T06:54:50.935Z','2026-12-07T06:54:51.092Z','/exports/host2.csv','2db15118da9eab9f53e6bbeebbaa5ae096ea3409e7cf62c5ff656c44596cf49b','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:35079", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/host2.csv", "output": "/exports/host2.results.csv", "source": ""}], "force_resend": false, "max_attempts": 5, "rate": 50.0, "timeout_s": 30.0}',9235,0);
CREATE TABLE skips (
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL
);
INSERT INTO "skips" VALUES(4,1,'TKP-2411260001','WH-TGR04');
INSERT INTO "skips" VALUES(4,2,'TKP-2411260002','WH-TGR04');
INSERT INTO "skips" VALUES(4,3,'SHP-24112600A7','WH-CKR01');
INSERT INTO "skips" VALUES(4,4,'LZD-738920114562','WH-SBY02');
INSERT INTO "skips" VALUES(4,5,'TTS-576912384410257731','WH-TGR04');
INSERT INTO "skips" VALUES(4,8,'SHP-24112600B2','WH-TGR04');
INSERT INTO "skips" VALUES(4,9,'0001234567','WH-TGR04');
INSERT INTO "skips" VALUES(4,11,'LZD-738920114587','WH-CKR01');
INSERT INTO "skips" VALUES(4,12,'TTS-576912384410258104','WH-SBY02');
INSERT INTO "skips" VALUES(4,14,'TKP-2411260004','WH-SBY02');
INSERT INTO "skips" VALUES(4,17,'TTS-576912384410258390','WH-CKR01');
INSERT INTO "skips" VALUES(4,19,'TKP-2411260006','WH-CKR01');
INSERT INTO "skips" VALUES(4,20,'SHP-24112600C9','WH-CKR01');
INSERT INTO "skips" VALUES(4,22,'TKP-2411260008','WH-SBY02');
INSERT INTO "skips" VALUES(4,23,'SHP-24112600F6','WH-CKR01');
INSERT INTO "skips" VALUES(4,25,'LZD-738920114655','WH-CKR01');
INSERT INTO "skips" VALUES(4,28,'TTS-576912384410259012','WH-SBY02');
INSERT INTO "skips" VALUES(4,29,'SHP-24112601A3','WH-TGR04');
INSERT INTO "skips" VALUES(4,31,'TKP-2411260010','WH-CKR01');
INSERT INTO "skips" VALUES(4,33,'SHP-24112601B8','WH-SBY02');
INSERT INTO "skips" VALUES(4,35,'LZD-738920114698','WH-SBY02');
INSERT INTO "skips" VALUES(4,36,'SHP-24112601C5','WH-CKR01');
INSERT INTO "skips" VALUES(4,37,'TKP-2411260012','WH-SBY02');
INSERT INTO "skips" VALUES(4,38,'LZD-738920114702','WH-CKR01');
INSERT INTO "skips" VALUES(4,39,'TKP-2411260013','WH-CKR01');
INSERT INTO "skips" VALUES(4,40,'TTS-576912384410259731','WH-SBY02');
INSERT INTO "skips" VALUES(6,1,'LZD-738920114603','WH-TGR04');
INSERT INTO "skips" VALUES(6,2,'SHP-24112600E1','WH-TGR04');
INSERT INTO "skips" VALUES(6,3,'SHP-24112601D0','WH-TGR04');
INSERT INTO "skips" VALUES(6,4,'TKP-2411260007','WH-TGR04');
INSERT INTO "skips" VALUES(6,5,'TKP-2411260011','WH-TGR04');
INSERT INTO "skips" VALUES(6,6,'TTS-576912384410258877','WH-TGR04');
INSERT INTO "skips" VALUES(6,7,'TTS-576912384410259548','WH-TGR04');
PRAGMA user_version=3;
COMMIT;
