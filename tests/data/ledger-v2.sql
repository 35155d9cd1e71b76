-- A ledger written by batch-cancel at commit 9e2288c (schema 2, PRAGMA user_version=2):
-- `make demo`'s own ledger (five runs through the real CLI against the sandbox: every
-- outcome kind, retries, 26 rows skipped by the re-run), dumped with sqlite3's iterdump;
-- the demo's paths are rewritten to /exports/.
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
INSERT INTO "attempts" VALUES('0001234567','WH-TGR04',8589934601,2,9,1,'2026-12-03T14:59:20.476Z','2026-12-03T14:59:20.780Z',500,'803','Internal Server error.','sbx-15b1b99704384b31',0);
INSERT INTO "attempts" VALUES('0001234567','WH-TGR04',8589934606,2,9,2,'2026-12-03T14:59:21.076Z','2026-12-03T14:59:21.291Z',200,'','','sbx-0439159b59a44992',1);
INSERT INTO "attempts" VALUES('0024120100077','WH-CKR01',21474836490,5,3,1,'2026-12-03T14:59:28.410Z','2026-12-03T14:59:28.817Z',200,'','','sbx-e3865c0ca5d64bca',1);
INSERT INTO "attempts" VALUES('2412010000001','WH-CKR01',21474836488,5,1,1,'2026-12-03T14:59:28.206Z','2026-12-03T14:59:28.613Z',200,'','','sbx-75cf7d76c4e6490c',1);
INSERT INTO "attempts" VALUES('2412010000002','WH-CKR01',21474836489,5,2,1,'2026-12-03T14:59:28.307Z','2026-12-03T14:59:28.716Z',500,'803','Internal Server error.','sbx-cddc633a24ac414e',0);
INSERT INTO "attempts" VALUES('2412010000002','WH-CKR01',21474836492,5,2,2,'2026-12-03T14:59:29.080Z','2026-12-03T14:59:29.122Z',200,'','','sbx-c3502c6020be4e46',1);
INSERT INTO "attempts" VALUES('2412010000004','WH-CKR01',21474836491,5,4,1,'2026-12-03T14:59:28.511Z','2026-12-03T14:59:28.919Z',200,'','','sbx-2ff1a925a1a24d61',1);
INSERT INTO "attempts" VALUES('738920200001','WH-SBY02',21474836485,5,1,1,'2026-12-03T14:59:27.903Z','2026-12-03T14:59:28.307Z',200,'','','sbx-7783fef3d0d640a1',1);
INSERT INTO "attempts" VALUES('738920200002','WH-SBY02',21474836486,5,2,1,'2026-12-03T14:59:28.001Z','2026-12-03T14:59:28.410Z',200,'','','sbx-406892897e844ebc',1);
INSERT INTO "attempts" VALUES('738920200003','WH-SBY02',21474836487,5,3,1,'2026-12-03T14:59:28.104Z','2026-12-03T14:59:28.511Z',200,'','','sbx-5e9675b5ad144aa3',1);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',4294967300,1,4,1,'2026-12-03T14:59:19.649Z','2026-12-03T14:59:19.694Z',NULL,'run_interrupted','not sent: the run stopped','',0);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',8589934596,2,4,1,'2026-12-03T14:59:19.926Z','2026-12-03T14:59:20.273Z',500,'803','Internal Server error.','sbx-8c1d8f13efeb4599',0);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',8589934603,2,4,2,'2026-12-03T14:59:20.689Z','2026-12-03T14:59:20.985Z',500,'803','Internal Server error.','sbx-607aa0716ebf443a',0);
INSERT INTO "attempts" VALUES('LZD-738920114562','WH-SBY02',8589934615,2,4,3,'2026-12-03T14:59:21.885Z','2026-12-03T14:59:22.209Z',200,'','','sbx-dcdccd1afe8746f2',1);
INSERT INTO "attempts" VALUES('LZD-738920114587','WH-CKR01',8589934602,2,11,1,'2026-12-03T14:59:20.680Z','2026-12-03T14:59:20.883Z',200,'','','sbx-731436c0e2d44530',1);
INSERT INTO "attempts" VALUES('LZD-738920114603','WH-TGR04',12884901889,3,1,1,'2026-12-03T14:59:24.771Z','2026-12-03T14:59:24.814Z',200,'','','sbx-becb3c308c954406',1);
INSERT INTO "attempts" VALUES('LZD-738920114619','WH-SBY02',8589934614,2,21,1,'2026-12-03T14:59:21.801Z','2026-12-03T14:59:22.107Z',500,'803','Internal Server error.','sbx-8379def1d04c41ed',0);
INSERT INTO "attempts" VALUES('LZD-738920114619','WH-SBY02',8589934621,2,21,2,'2026-12-03T14:59:22.501Z','2026-12-03T14:59:22.820Z',400,'9003','Order cannot be cancelled: order is SHIPPED.','sbx-0fed313d193d4af2',0);
INSERT INTO "attempts" VALUES('LZD-738920114619','WH-SBY02',17179869189,4,21,1,'2026-12-03T14:59:25.697Z','2026-12-03T14:59:26.099Z',400,'9003','Order cannot be cancelled: order is SHIPPED.','sbx-7df9cec1f1c44fc6',0);
INSERT INTO "attempts" VALUES('LZD-738920114655','WH-CKR01',8589934618,2,25,1,'2026-12-03T14:59:22.210Z','2026-12-03T14:59:22.515Z',200,'','','sbx-82407ad45ece431b',1);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',8589934624,2,32,1,'2026-12-03T14:59:22.718Z','2026-12-03T14:59:23.127Z',500,'803','Internal Server error.','sbx-fc0acb1e90844d51',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',8589934630,2,32,2,'2026-12-03T14:59:23.540Z','2026-12-03T14:59:23.737Z',500,'803','Internal Server error.','sbx-940c6c719e804b13',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',8589934636,2,32,3,'2026-12-03T14:59:24.490Z','2026-12-03T14:59:24.532Z',500,'803','Internal Server error.','sbx-ff599dc81de146b6',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',17179869191,4,32,1,'2026-12-03T14:59:25.897Z','2026-12-03T14:59:26.304Z',500,'803','Internal Server error.','sbx-7e5c76b40a3a4cb7',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',17179869194,4,32,2,'2026-12-03T14:59:26.721Z','2026-12-03T14:59:26.763Z',500,'803','Internal Server error.','sbx-60da37a9f03a4922',0);
INSERT INTO "attempts" VALUES('LZD-738920114671','WH-TGR04',17179869195,4,32,3,'2026-12-03T14:59:27.278Z','2026-12-03T14:59:27.319Z',500,'803','Internal Server error.','sbx-9a5fd022234e4233',0);
INSERT INTO "attempts" VALUES('LZD-738920114698','WH-SBY02',8589934627,2,35,1,'2026-12-03T14:59:23.025Z','2026-12-03T14:59:23.434Z',500,'803','Internal Server error.','sbx-4086a8170bf14741',0);
INSERT INTO "attempts" VALUES('LZD-738920114698','WH-SBY02',8589934633,2,35,2,'2026-12-03T14:59:23.763Z','2026-12-03T14:59:24.045Z',200,'','','sbx-4b4464687e5641f3',1);
INSERT INTO "attempts" VALUES('LZD-738920114702','WH-CKR01',8589934631,2,38,1,'2026-12-03T14:59:23.637Z','2026-12-03T14:59:23.840Z',200,'','','sbx-8c4300fe3b4e42f3',1);
INSERT INTO "attempts" VALUES('SHP-24112600A7','WH-CKR01',4294967299,1,3,1,'2026-12-03T14:59:19.649Z','2026-12-03T14:59:19.694Z',NULL,'run_interrupted','not sent: the run stopped','',0);
INSERT INTO "attempts" VALUES('SHP-24112600A7','WH-CKR01',8589934595,2,3,1,'2026-12-03T14:59:19.926Z','2026-12-03T14:59:20.169Z',200,'','','sbx-0a94ac63806b4c1d',1);
INSERT INTO "attempts" VALUES('SHP-24112600B2','WH-TGR04',8589934600,2,8,1,'2026-12-03T14:59:20.373Z','2026-12-03T14:59:20.680Z',200,'','','sbx-05fef462359d4d73',1);
INSERT INTO "attempts" VALUES('SHP-24112600C9','WH-CKR01',8589934613,2,20,1,'2026-12-03T14:59:21.698Z','2026-12-03T14:59:22.004Z',200,'','','sbx-3ef51e21f89547ce',1);
INSERT INTO "attempts" VALUES('SHP-24112600D4','WH-SBY02',8589934610,2,18,1,'2026-12-03T14:59:21.495Z','2026-12-03T14:59:21.698Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-0f91c72ef26640a3',0);
INSERT INTO "attempts" VALUES('SHP-24112600D4','WH-SBY02',17179869188,4,18,1,'2026-12-03T14:59:25.654Z','2026-12-03T14:59:25.999Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-83806a2b327844bd',0);
INSERT INTO "attempts" VALUES('SHP-24112600E1','WH-TGR04',12884901890,3,2,1,'2026-12-03T14:59:24.771Z','2026-12-03T14:59:24.911Z',200,'','','sbx-2d5d475874b94288',1);
INSERT INTO "attempts" VALUES('SHP-24112600F6','WH-CKR01',8589934617,2,23,1,'2026-12-03T14:59:22.004Z','2026-12-03T14:59:22.412Z',200,'','','sbx-1b3a30f7f7f54631',1);
INSERT INTO "attempts" VALUES('SHP-24112601A3','WH-TGR04',8589934622,2,29,1,'2026-12-03T14:59:22.515Z','2026-12-03T14:59:22.922Z',200,'','','sbx-b42346d59af14dec',1);
INSERT INTO "attempts" VALUES('SHP-24112601B8','WH-SBY02',8589934625,2,33,1,'2026-12-03T14:59:22.820Z','2026-12-03T14:59:23.229Z',200,'','','sbx-5b01202b057846f6',1);
INSERT INTO "attempts" VALUES('SHP-24112601C5','WH-CKR01',8589934628,2,36,1,'2026-12-03T14:59:23.229Z','2026-12-03T14:59:23.534Z',200,'','','sbx-77c71d80b8ee49be',1);
INSERT INTO "attempts" VALUES('SHP-24112601D0','WH-TGR04',12884901891,3,3,1,'2026-12-03T14:59:24.771Z','2026-12-03T14:59:25.014Z',200,'','','sbx-13090b9934f84991',1);
INSERT INTO "attempts" VALUES('TKP-2411260001','WH-TGR04',4294967297,1,1,1,'2026-12-03T14:59:19.649Z','2026-12-03T14:59:19.693Z',401,'802','Unauthorized Access. You are not authorized to access this resource.','sbx-e5f5d59ca813455f',0);
INSERT INTO "attempts" VALUES('TKP-2411260001','WH-TGR04',8589934593,2,1,1,'2026-12-03T14:59:19.926Z','2026-12-03T14:59:19.969Z',200,'','','sbx-59b092f896a74404',1);
INSERT INTO "attempts" VALUES('TKP-2411260002','WH-TGR04',4294967298,1,2,1,'2026-12-03T14:59:19.649Z','2026-12-03T14:59:19.694Z',NULL,'run_interrupted','not sent: the run stopped','',0);
INSERT INTO "attempts" VALUES('TKP-2411260002','WH-TGR04',8589934594,2,2,1,'2026-12-03T14:59:19.926Z','2026-12-03T14:59:20.066Z',200,'','','sbx-8195ca6a0a16456d',1);
INSERT INTO "attempts" VALUES('TKP-2411260003','WH-CKR01',8589934599,2,7,1,'2026-12-03T14:59:20.169Z','2026-12-03T14:59:20.577Z',500,'803','Internal Server error.','sbx-d5170e9f0640419d',0);
INSERT INTO "attempts" VALUES('TKP-2411260003','WH-CKR01',8589934605,2,7,2,'2026-12-03T14:59:20.920Z','2026-12-03T14:59:21.189Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-40ccef5a1c684b86',0);
INSERT INTO "attempts" VALUES('TKP-2411260003','WH-CKR01',17179869186,4,7,1,'2026-12-03T14:59:25.654Z','2026-12-03T14:59:25.794Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-3684bde9458f4d8f',0);
INSERT INTO "attempts" VALUES('TKP-2411260004','WH-SBY02',8589934607,2,14,1,'2026-12-03T14:59:21.189Z','2026-12-03T14:59:21.392Z',200,'','','sbx-42a486ec35cd4fd7',1);
INSERT INTO "attempts" VALUES('TKP-2411260005','WH-TGR04',8589934608,2,15,1,'2026-12-03T14:59:21.292Z','2026-12-03T14:59:21.495Z',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).','sbx-7ccd153a749445c4',0);
INSERT INTO "attempts" VALUES('TKP-2411260005','WH-TGR04',17179869187,4,15,1,'2026-12-03T14:59:25.654Z','2026-12-03T14:59:25.897Z',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).','sbx-a07b5fc4163a44a3',0);
INSERT INTO "attempts" VALUES('TKP-2411260006','WH-CKR01',8589934612,2,19,1,'2026-12-03T14:59:21.596Z','2026-12-03T14:59:21.904Z',200,'','','sbx-24ed1bff5fd7430a',1);
INSERT INTO "attempts" VALUES('TKP-2411260007','WH-TGR04',12884901892,3,4,1,'2026-12-03T14:59:24.771Z','2026-12-03T14:59:25.115Z',200,'','','sbx-a1875e7b15194492',1);
INSERT INTO "attempts" VALUES('TKP-2411260008','WH-SBY02',8589934616,2,22,1,'2026-12-03T14:59:21.904Z','2026-12-03T14:59:22.310Z',200,'','','sbx-fddca0aacd694378',1);
INSERT INTO "attempts" VALUES('TKP-2411260009','WH-TGR04',8589934619,2,26,1,'2026-12-03T14:59:22.310Z','2026-12-03T14:59:22.617Z',400,'9002','Order is already cancelled.','sbx-64aa4d48b4104235',0);
INSERT INTO "attempts" VALUES('TKP-2411260009','WH-TGR04',17179869190,4,26,1,'2026-12-03T14:59:25.794Z','2026-12-03T14:59:26.203Z',500,'803','Internal Server error.','sbx-1da7684fcc4c4b7d',0);
INSERT INTO "attempts" VALUES('TKP-2411260009','WH-TGR04',17179869193,4,26,2,'2026-12-03T14:59:26.604Z','2026-12-03T14:59:26.646Z',400,'9002','Order is already cancelled.','sbx-50abdbb139db408e',0);
INSERT INTO "attempts" VALUES('TKP-2411260010','WH-CKR01',8589934623,2,31,1,'2026-12-03T14:59:22.618Z','2026-12-03T14:59:23.025Z',200,'','','sbx-049527cd94b54729',1);
INSERT INTO "attempts" VALUES('TKP-2411260011','WH-TGR04',12884901893,3,5,1,'2026-12-03T14:59:24.814Z','2026-12-03T14:59:25.218Z',200,'','','sbx-e6192a5525bc4d54',1);
INSERT INTO "attempts" VALUES('TKP-2411260012','WH-SBY02',8589934629,2,37,1,'2026-12-03T14:59:23.534Z','2026-12-03T14:59:23.637Z',200,'','','sbx-f664f625a1b445c4',1);
INSERT INTO "attempts" VALUES('TKP-2411260013','WH-CKR01',8589934634,2,39,1,'2026-12-03T14:59:23.840Z','2026-12-03T14:59:24.147Z',200,'','','sbx-6ad9e62b295448b3',1);
INSERT INTO "attempts" VALUES('TKP-2411269999','WH-TGR04',8589934598,2,6,1,'2026-12-03T14:59:20.067Z','2026-12-03T14:59:20.475Z',400,'3012','Order Doesn''t Exist in WMS and OMS.','sbx-b5a6a83641c14961',0);
INSERT INTO "attempts" VALUES('TKP-2411269999','WH-TGR04',17179869185,4,6,1,'2026-12-03T14:59:25.654Z','2026-12-03T14:59:25.697Z',400,'3012','Order Doesn''t Exist in WMS and OMS.','sbx-5ca2ada8ed0e4bcc',0);
INSERT INTO "attempts" VALUES('TKP-2412010001','WH-TGR04',21474836481,5,1,1,'2026-12-03T14:59:27.861Z','2026-12-03T14:59:27.903Z',200,'','','sbx-b6902770c3d44dcf',1);
INSERT INTO "attempts" VALUES('TKP-2412010002','WH-TGR04',21474836482,5,2,1,'2026-12-03T14:59:27.861Z','2026-12-03T14:59:28.001Z',200,'','','sbx-350b766d01964eab',1);
INSERT INTO "attempts" VALUES('TKP-2412010003','WH-TGR04',21474836483,5,3,1,'2026-12-03T14:59:27.861Z','2026-12-03T14:59:28.104Z',200,'','','sbx-c5c530869bb846f1',1);
INSERT INTO "attempts" VALUES('TKP-2412010004','WH-TGR04',21474836484,5,2,1,'2026-12-03T14:59:27.861Z','2026-12-03T14:59:28.205Z',200,'','','sbx-529b2efa713d4d7a',1);
INSERT INTO "attempts" VALUES('TTS-576912384410257731','WH-TGR04',8589934597,2,5,1,'2026-12-03T14:59:19.969Z','2026-12-03T14:59:20.373Z',200,'','','sbx-af983d0c90f14824',1);
INSERT INTO "attempts" VALUES('TTS-576912384410258104','WH-SBY02',8589934604,2,12,1,'2026-12-03T14:59:20.883Z','2026-12-03T14:59:21.087Z',500,'803','Internal Server error.','sbx-e7a824c7a47f407e',0);
INSERT INTO "attempts" VALUES('TTS-576912384410258104','WH-SBY02',8589934611,2,12,2,'2026-12-03T14:59:21.542Z','2026-12-03T14:59:21.801Z',200,'','','sbx-46d4bf00c6bd4d1b',1);
INSERT INTO "attempts" VALUES('TTS-576912384410258390','WH-CKR01',8589934609,2,17,1,'2026-12-03T14:59:21.392Z','2026-12-03T14:59:21.596Z',200,'','','sbx-f15fe4d85f9c4208',1);
INSERT INTO "attempts" VALUES('TTS-576912384410258877','WH-TGR04',12884901894,3,6,1,'2026-12-03T14:59:24.911Z','2026-12-03T14:59:25.320Z',200,'','','sbx-7565dff64c454b84',1);
INSERT INTO "attempts" VALUES('TTS-576912384410259012','WH-SBY02',8589934620,2,28,1,'2026-12-03T14:59:22.412Z','2026-12-03T14:59:22.718Z',200,'','','sbx-6951dac4aba14cc2',1);
INSERT INTO "attempts" VALUES('TTS-576912384410259265','WH-CKR01',8589934626,2,34,1,'2026-12-03T14:59:22.922Z','2026-12-03T14:59:23.331Z',500,'803','Internal Server error.','sbx-4a98629988a049cd',0);
INSERT INTO "attempts" VALUES('TTS-576912384410259265','WH-CKR01',8589934632,2,34,2,'2026-12-03T14:59:23.694Z','2026-12-03T14:59:23.942Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-f109f4b588bc48e3',0);
INSERT INTO "attempts" VALUES('TTS-576912384410259265','WH-CKR01',17179869192,4,34,1,'2026-12-03T14:59:25.999Z','2026-12-03T14:59:26.407Z',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).','sbx-8cecdb06e6c9429f',0);
INSERT INTO "attempts" VALUES('TTS-576912384410259548','WH-TGR04',12884901895,3,7,1,'2026-12-03T14:59:25.014Z','2026-12-03T14:59:25.420Z',200,'','','sbx-b026e0e71136474d',1);
INSERT INTO "attempts" VALUES('TTS-576912384410259731','WH-SBY02',8589934635,2,40,1,'2026-12-03T14:59:23.942Z','2026-12-03T14:59:24.249Z',200,'','','sbx-36924f8155794d27',1);
CREATE TABLE ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO "ledger_meta" VALUES('kept_since','2026-06-06T14:59:29.126Z');
CREATE TABLE outcomes (
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,            -- NULL for `skipped`: the attempts say which run cancelled it
    attempts      INTEGER NOT NULL,
    request_id    TEXT,
    finished_at   TEXT NOT NULL,
    PRIMARY KEY (order_no, warehouse_id, run_id, source_row)
) WITHOUT ROWID;
INSERT INTO "outcomes" VALUES('','',1,10,'invalid',NULL,'order_no_missing','order_no is blank',0,'','2026-12-03T14:59:19.649Z');
INSERT INTO "outcomes" VALUES('','',1,16,'invalid',NULL,'warehouse_id_too_long','warehouse_id is 23 characters; the API allows at most 20',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('','',1,24,'invalid',NULL,'cancel_reason_missing','cancel_reason is blank',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('','',1,30,'invalid',NULL,'order_no_too_long','order_no is 57 characters; the API allows at most 50',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('','',2,10,'invalid',NULL,'order_no_missing','order_no is blank',0,'','2026-12-03T14:59:19.926Z');
INSERT INTO "outcomes" VALUES('','',2,16,'invalid',NULL,'warehouse_id_too_long','warehouse_id is 23 characters; the API allows at most 20',0,'','2026-12-03T14:59:19.970Z');
INSERT INTO "outcomes" VALUES('','',2,24,'invalid',NULL,'cancel_reason_missing','cancel_reason is blank',0,'','2026-12-03T14:59:21.189Z');
INSERT INTO "outcomes" VALUES('','',2,30,'invalid',NULL,'order_no_too_long','order_no is 57 characters; the API allows at most 50',0,'','2026-12-03T14:59:21.596Z');
INSERT INTO "outcomes" VALUES('','',4,10,'invalid',NULL,'order_no_missing','order_no is blank',0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('','',4,16,'invalid',NULL,'warehouse_id_too_long','warehouse_id is 23 characters; the API allows at most 20',0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('','',4,24,'invalid',NULL,'cancel_reason_missing','cancel_reason is blank',0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('','',4,30,'invalid',NULL,'order_no_too_long','order_no is 57 characters; the API allows at most 50',0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('0001234567','WH-TGR04',1,9,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('0001234567','WH-TGR04',2,9,'cancelled',200,'','',2,'sbx-0439159b59a44992','2026-12-03T14:59:21.292Z');
INSERT INTO "outcomes" VALUES('0001234567','WH-TGR04',4,9,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('0024120100077','WH-CKR01',5,3,'cancelled',200,'','',1,'sbx-e3865c0ca5d64bca','2026-12-03T14:59:28.817Z');
INSERT INTO "outcomes" VALUES('2412010000001','WH-CKR01',5,1,'cancelled',200,'','',1,'sbx-75cf7d76c4e6490c','2026-12-03T14:59:28.613Z');
INSERT INTO "outcomes" VALUES('2412010000002','WH-CKR01',5,2,'cancelled',200,'','',2,'sbx-c3502c6020be4e46','2026-12-03T14:59:29.122Z');
INSERT INTO "outcomes" VALUES('2412010000004','WH-CKR01',5,4,'cancelled',200,'','',1,'sbx-2ff1a925a1a24d61','2026-12-03T14:59:28.919Z');
INSERT INTO "outcomes" VALUES('738920200001','WH-SBY02',5,1,'cancelled',200,'','',1,'sbx-7783fef3d0d640a1','2026-12-03T14:59:28.307Z');
INSERT INTO "outcomes" VALUES('738920200002','WH-SBY02',5,2,'cancelled',200,'','',1,'sbx-406892897e844ebc','2026-12-03T14:59:28.410Z');
INSERT INTO "outcomes" VALUES('738920200003','WH-SBY02',5,3,'cancelled',200,'','',1,'sbx-5e9675b5ad144aa3','2026-12-03T14:59:28.511Z');
INSERT INTO "outcomes" VALUES('LZD-738920114562','WH-SBY02',1,4,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('LZD-738920114562','WH-SBY02',2,4,'cancelled',200,'','',3,'sbx-dcdccd1afe8746f2','2026-12-03T14:59:22.209Z');
INSERT INTO "outcomes" VALUES('LZD-738920114562','WH-SBY02',4,4,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('LZD-738920114587','WH-CKR01',1,11,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('LZD-738920114587','WH-CKR01',2,11,'cancelled',200,'','',1,'sbx-731436c0e2d44530','2026-12-03T14:59:20.883Z');
INSERT INTO "outcomes" VALUES('LZD-738920114587','WH-CKR01',4,11,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('LZD-738920114603','WH-TGR04',3,1,'cancelled',200,'','',1,'sbx-becb3c308c954406','2026-12-03T14:59:24.814Z');
INSERT INTO "outcomes" VALUES('LZD-738920114619','WH-SBY02',1,21,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('LZD-738920114619','WH-SBY02',2,21,'rejected',400,'9003','Order cannot be cancelled: order is SHIPPED.',2,'sbx-0fed313d193d4af2','2026-12-03T14:59:22.820Z');
INSERT INTO "outcomes" VALUES('LZD-738920114619','WH-SBY02',4,21,'rejected',400,'9003','Order cannot be cancelled: order is SHIPPED.',1,'sbx-7df9cec1f1c44fc6','2026-12-03T14:59:26.100Z');
INSERT INTO "outcomes" VALUES('LZD-738920114655','WH-CKR01',1,25,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('LZD-738920114655','WH-CKR01',2,25,'cancelled',200,'','',1,'sbx-82407ad45ece431b','2026-12-03T14:59:22.515Z');
INSERT INTO "outcomes" VALUES('LZD-738920114655','WH-CKR01',4,25,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('LZD-738920114671','WH-TGR04',1,32,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('LZD-738920114671','WH-TGR04',2,32,'failed',500,'803','gave up after 3 attempt(s): Internal Server error.',3,'sbx-ff599dc81de146b6','2026-12-03T14:59:24.532Z');
INSERT INTO "outcomes" VALUES('LZD-738920114671','WH-TGR04',4,32,'failed',500,'803','gave up after 3 attempt(s): Internal Server error.',3,'sbx-9a5fd022234e4233','2026-12-03T14:59:27.319Z');
INSERT INTO "outcomes" VALUES('LZD-738920114698','WH-SBY02',1,35,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('LZD-738920114698','WH-SBY02',2,35,'cancelled',200,'','',2,'sbx-4b4464687e5641f3','2026-12-03T14:59:24.045Z');
INSERT INTO "outcomes" VALUES('LZD-738920114698','WH-SBY02',4,35,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('LZD-738920114702','WH-CKR01',1,38,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('LZD-738920114702','WH-CKR01',2,38,'cancelled',200,'','',1,'sbx-8c4300fe3b4e42f3','2026-12-03T14:59:23.840Z');
INSERT INTO "outcomes" VALUES('LZD-738920114702','WH-CKR01',4,38,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112600A7','WH-CKR01',1,3,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('SHP-24112600A7','WH-CKR01',2,3,'cancelled',200,'','',1,'sbx-0a94ac63806b4c1d','2026-12-03T14:59:20.169Z');
INSERT INTO "outcomes" VALUES('SHP-24112600A7','WH-CKR01',4,3,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112600B2','WH-TGR04',1,8,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('SHP-24112600B2','WH-TGR04',2,8,'cancelled',200,'','',1,'sbx-05fef462359d4d73','2026-12-03T14:59:20.680Z');
INSERT INTO "outcomes" VALUES('SHP-24112600B2','WH-TGR04',4,8,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112600C9','WH-CKR01',1,20,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('SHP-24112600C9','WH-CKR01',2,20,'cancelled',200,'','cancel_reason_shortened: cancel_reason was 80 characters, sent its first 50',1,'sbx-3ef51e21f89547ce','2026-12-03T14:59:22.004Z');
INSERT INTO "outcomes" VALUES('SHP-24112600C9','WH-CKR01',4,20,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112600D4','WH-SBY02',1,18,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('SHP-24112600D4','WH-SBY02',2,18,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-0f91c72ef26640a3','2026-12-03T14:59:21.698Z');
INSERT INTO "outcomes" VALUES('SHP-24112600D4','WH-SBY02',4,18,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-83806a2b327844bd','2026-12-03T14:59:25.999Z');
INSERT INTO "outcomes" VALUES('SHP-24112600E1','WH-TGR04',3,2,'cancelled',200,'','',1,'sbx-2d5d475874b94288','2026-12-03T14:59:24.911Z');
INSERT INTO "outcomes" VALUES('SHP-24112600F6','WH-CKR01',1,23,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('SHP-24112600F6','WH-CKR01',2,23,'cancelled',200,'','',1,'sbx-1b3a30f7f7f54631','2026-12-03T14:59:22.412Z');
INSERT INTO "outcomes" VALUES('SHP-24112600F6','WH-CKR01',4,23,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112601A3','WH-TGR04',1,29,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('SHP-24112601A3','WH-TGR04',2,29,'cancelled',200,'','',1,'sbx-b42346d59af14dec','2026-12-03T14:59:22.922Z');
INSERT INTO "outcomes" VALUES('SHP-24112601A3','WH-TGR04',4,29,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112601B8','WH-SBY02',1,33,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('SHP-24112601B8','WH-SBY02',2,33,'cancelled',200,'','',1,'sbx-5b01202b057846f6','2026-12-03T14:59:23.229Z');
INSERT INTO "outcomes" VALUES('SHP-24112601B8','WH-SBY02',4,33,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112601C5','WH-CKR01',1,36,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('SHP-24112601C5','WH-CKR01',2,36,'cancelled',200,'','',1,'sbx-77c71d80b8ee49be','2026-12-03T14:59:23.534Z');
INSERT INTO "outcomes" VALUES('SHP-24112601C5','WH-CKR01',4,36,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('SHP-24112601D0','WH-TGR04',3,3,'cancelled',200,'','',1,'sbx-13090b9934f84991','2026-12-03T14:59:25.014Z');
INSERT INTO "outcomes" VALUES('TKP-2411260001','WH-TGR04',1,1,'rejected',401,'802','Unauthorized Access. You are not authorized to access this resource.',1,'sbx-e5f5d59ca813455f','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260001','WH-TGR04',2,1,'cancelled',200,'','',1,'sbx-59b092f896a74404','2026-12-03T14:59:19.969Z');
INSERT INTO "outcomes" VALUES('TKP-2411260001','WH-TGR04',4,1,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',1,2,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',1,13,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 2',0,'','2026-12-03T14:59:19.649Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',2,2,'cancelled',200,'','',1,'sbx-8195ca6a0a16456d','2026-12-03T14:59:20.066Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',2,13,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 2',0,'','2026-12-03T14:59:19.926Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',4,2,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260002','WH-TGR04',4,13,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 2',0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260003','WH-CKR01',1,7,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260003','WH-CKR01',2,7,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',2,'sbx-40ccef5a1c684b86','2026-12-03T14:59:21.189Z');
INSERT INTO "outcomes" VALUES('TKP-2411260003','WH-CKR01',4,7,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-3684bde9458f4d8f','2026-12-03T14:59:25.794Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',1,14,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',1,27,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 14',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',2,14,'cancelled',200,'','',1,'sbx-42a486ec35cd4fd7','2026-12-03T14:59:21.392Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',2,27,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 14',0,'','2026-12-03T14:59:21.393Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',4,14,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260004','WH-SBY02',4,27,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 14',0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260005','WH-TGR04',1,15,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TKP-2411260005','WH-TGR04',2,15,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).',1,'sbx-7ccd153a749445c4','2026-12-03T14:59:21.495Z');
INSERT INTO "outcomes" VALUES('TKP-2411260005','WH-TGR04',4,15,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status PICKED).',1,'sbx-a07b5fc4163a44a3','2026-12-03T14:59:25.897Z');
INSERT INTO "outcomes" VALUES('TKP-2411260006','WH-CKR01',1,19,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260006','WH-CKR01',2,19,'cancelled',200,'','',1,'sbx-24ed1bff5fd7430a','2026-12-03T14:59:21.904Z');
INSERT INTO "outcomes" VALUES('TKP-2411260006','WH-CKR01',4,19,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260007','WH-TGR04',3,4,'cancelled',200,'','',1,'sbx-a1875e7b15194492','2026-12-03T14:59:25.115Z');
INSERT INTO "outcomes" VALUES('TKP-2411260008','WH-SBY02',1,22,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260008','WH-SBY02',2,22,'cancelled',200,'','',1,'sbx-fddca0aacd694378','2026-12-03T14:59:22.310Z');
INSERT INTO "outcomes" VALUES('TKP-2411260008','WH-SBY02',4,22,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260009','WH-TGR04',1,26,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411260009','WH-TGR04',2,26,'rejected',400,'9002','Order is already cancelled.',1,'sbx-64aa4d48b4104235','2026-12-03T14:59:22.617Z');
INSERT INTO "outcomes" VALUES('TKP-2411260009','WH-TGR04',4,26,'rejected',400,'9002','Order is already cancelled.',2,'sbx-50abdbb139db408e','2026-12-03T14:59:26.646Z');
INSERT INTO "outcomes" VALUES('TKP-2411260010','WH-CKR01',1,31,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TKP-2411260010','WH-CKR01',2,31,'cancelled',200,'','',1,'sbx-049527cd94b54729','2026-12-03T14:59:23.025Z');
INSERT INTO "outcomes" VALUES('TKP-2411260010','WH-CKR01',4,31,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260011','WH-TGR04',3,5,'cancelled',200,'','',1,'sbx-e6192a5525bc4d54','2026-12-03T14:59:25.218Z');
INSERT INTO "outcomes" VALUES('TKP-2411260012','WH-SBY02',1,37,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TKP-2411260012','WH-SBY02',2,37,'cancelled',200,'','',1,'sbx-f664f625a1b445c4','2026-12-03T14:59:23.637Z');
INSERT INTO "outcomes" VALUES('TKP-2411260012','WH-SBY02',4,37,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411260013','WH-CKR01',1,39,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TKP-2411260013','WH-CKR01',2,39,'cancelled',200,'','',1,'sbx-6ad9e62b295448b3','2026-12-03T14:59:24.147Z');
INSERT INTO "outcomes" VALUES('TKP-2411260013','WH-CKR01',4,39,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TKP-2411269999','WH-TGR04',1,6,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TKP-2411269999','WH-TGR04',2,6,'rejected',400,'3012','Order Doesn''t Exist in WMS and OMS.',1,'sbx-b5a6a83641c14961','2026-12-03T14:59:20.475Z');
INSERT INTO "outcomes" VALUES('TKP-2411269999','WH-TGR04',4,6,'rejected',400,'3012','Order Doesn''t Exist in WMS and OMS.',1,'sbx-5ca2ada8ed0e4bcc','2026-12-03T14:59:25.697Z');
INSERT INTO "outcomes" VALUES('TKP-2412010001','WH-TGR04',5,1,'cancelled',200,'','',1,'sbx-b6902770c3d44dcf','2026-12-03T14:59:27.903Z');
INSERT INTO "outcomes" VALUES('TKP-2412010002','WH-TGR04',5,2,'cancelled',200,'','',1,'sbx-350b766d01964eab','2026-12-03T14:59:28.001Z');
INSERT INTO "outcomes" VALUES('TKP-2412010003','WH-TGR04',5,1,'duplicate',NULL,'duplicate_row','same order_no and warehouse_id as row 3 of tokopedia-20261201-a.csv',0,'','2026-12-03T14:59:27.861Z');
INSERT INTO "outcomes" VALUES('TKP-2412010003','WH-TGR04',5,3,'cancelled',200,'','',1,'sbx-c5c530869bb846f1','2026-12-03T14:59:28.104Z');
INSERT INTO "outcomes" VALUES('TKP-2412010004','WH-TGR04',5,2,'cancelled',200,'','',1,'sbx-529b2efa713d4d7a','2026-12-03T14:59:28.206Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410257731','WH-TGR04',1,5,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410257731','WH-TGR04',2,5,'cancelled',200,'','',1,'sbx-af983d0c90f14824','2026-12-03T14:59:20.373Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410257731','WH-TGR04',4,5,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258104','WH-SBY02',1,12,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258104','WH-SBY02',2,12,'cancelled',200,'','',2,'sbx-46d4bf00c6bd4d1b','2026-12-03T14:59:21.801Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258104','WH-SBY02',4,12,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258390','WH-CKR01',1,17,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258390','WH-CKR01',2,17,'cancelled',200,'','',1,'sbx-f15fe4d85f9c4208','2026-12-03T14:59:21.596Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258390','WH-CKR01',4,17,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410258877','WH-TGR04',3,6,'cancelled',200,'','',1,'sbx-7565dff64c454b84','2026-12-03T14:59:25.320Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259012','WH-SBY02',1,28,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.693Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259012','WH-SBY02',2,28,'cancelled',200,'','',1,'sbx-6951dac4aba14cc2','2026-12-03T14:59:22.718Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259012','WH-SBY02',4,28,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259265','WH-CKR01',1,34,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259265','WH-CKR01',2,34,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',2,'sbx-f109f4b588bc48e3','2026-12-03T14:59:23.942Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259265','WH-CKR01',4,34,'rejected',400,'9001','Order cannot be cancelled: stock is already allocated (status ALLOCATED).',1,'sbx-8cecdb06e6c9429f','2026-12-03T14:59:26.407Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259548','WH-TGR04',3,7,'cancelled',200,'','',1,'sbx-b026e0e71136474d','2026-12-03T14:59:25.420Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259731','WH-SBY02',1,40,'not_sent',NULL,'auth_refused','not sent: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY',0,'','2026-12-03T14:59:19.694Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259731','WH-SBY02',2,40,'cancelled',200,'','',1,'sbx-36924f8155794d27','2026-12-03T14:59:24.249Z');
INSERT INTO "outcomes" VALUES('TTS-576912384410259731','WH-SBY02',4,40,'skipped',NULL,'already_cancelled',NULL,0,'','2026-12-03T14:59:25.654Z');
CREATE TABLE paces (
    endpoint   TEXT PRIMARY KEY,
    rate       REAL NOT NULL,
    updated_at TEXT NOT NULL
);
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
INSERT INTO "runs" VALUES(1,'2026-12-03T14:59:19.646Z','2026-12-03T14:59:19.696Z','/exports/nightly-export.csv','f505a1b5fecf722af41c589b0654e53176be9176d46f49090091f71e004eed14','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:33233", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/batch_cancel/samples/nightly-export.csv", "output": "/exports/wrong-key.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',6456,3);
INSERT INTO "runs" VALUES(2,'2026-12-03T14:59:19.924Z','2026-12-03T14:59:24.535Z','/exports/nightly-export.csv','f505a1b5fecf722af41c589b0654e53176be9176d46f49090091f71e004eed14','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:33233", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/batch_cancel/samples/nightly-export.csv", "output": "/exports/nightly-export.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',6458,1);
INSERT INTO "runs" VALUES(3,'2026-12-03T14:59:24.769Z','2026-12-03T14:59:25.424Z','/exports/marketplace-export.csv','32cb7e9ad17f8d73574a0d8e20091ac088c5b6f50b31f50590f6eae09c6d5fe4','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:33233", "concurrency": 4, "files": [{"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "No. Pesanan"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/batch_cancel/samples/marketplace-export.csv", "output": "/exports/marketplace-export.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',6460,0);
INSERT INTO "runs" VALUES(4,'2026-12-03T14:59:25.651Z','2026-12-03T14:59:27.322Z','/exports/nightly-export.csv','f505a1b5fecf722af41c589b0654e53176be9176d46f49090091f71e004eed14','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:33233", "concurrency": 4, "files": [{"column_map": {}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/batch_cancel/samples/nightly-export.csv", "output": "/exports/nightly-export.rerun.results.csv", "source": ""}], "force_resend": false, "max_attempts": 3, "rate": 10.0, "timeout_s": 30.0}',6462,1);
INSERT INTO "runs" VALUES(5,'2026-12-03T14:59:27.858Z','2026-12-03T14:59:29.126Z','/exports/night/tokopedia-20261201-a.csv + /exports/night/tokopedia-20261201-b.csv + /exports/night/lazada-20261201.csv + /exports/night/shopee-20261201.xlsx','ce0a89f19334419f708078900310e8d98b5e65b0997f6d304692c0b7b5da9da1,9e5351255f82a5df7ae595d105832a7cd44b0b9e3280f7cc26e357a9441c50bb,edcd8cdbf4fc0b83d5843d4110dab6912f10e6ad348e8703cdb7a1cb314f51b4,e6d02997f6d79f5672736fb325d9cea47aeda388d9e4923641aafaaef2cc8c66','{"already_cancelled_codes": [], "base_url": "http://127.0.0.1:33233", "concurrency": 4, "files": [{"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "Nomor Invoice"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/night/tokopedia-20261201-a.csv", "output": "/exports/night/tokopedia-20261201-a.results.csv", "source": "tokopedia"}, {"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "Nomor Invoice"}, "default_cancel_reason": null, "default_warehouse_id": "WH-TGR04", "input": "/exports/night/tokopedia-20261201-b.csv", "output": "/exports/night/tokopedia-20261201-b.results.csv", "source": "tokopedia"}, {"column_map": {"cancel_reason": "Cancel Reason", "order_no": "Order Number", "warehouse_id": "Warehouse"}, "default_cancel_reason": null, "default_warehouse_id": null, "input": "/exports/night/lazada-20261201.csv", "output": "/exports/night/lazada-20261201.results.csv", "source": "lazada"}, {"column_map": {"cancel_reason": "Alasan Pembatalan", "order_no": "No. Pesanan"}, "default_cancel_reason": "Cancelled from marketplace", "default_warehouse_id": "WH-CKR01", "input": "/exports/night/shopee-20261201.xlsx", "output": "/exports/night/shopee-20261201.results.csv", "source": "shopee"}], "force_resend": false, "max_attempts": 5, "rate": 10, "timeout_s": 30.0}',6464,0);
PRAGMA user_version=2;
COMMIT;
