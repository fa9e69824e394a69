#include "jsonwriter.h"
#include "simulation.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <QTest>

using namespace fleet;

namespace {

const QString kEndpoint = QStringLiteral("GET /v1/workers/w-1");

// A valid worker as the server sends it, for tests that then break one thing.
QByteArray workerJson()
{
    return QByteArrayLiteral(R"({"id":"w-000001","name":"eu-central-x64-00001","region":"eu-central","arch":"amd64",
        "state":"busy","version":"2025.11.2","started_at":"2025-11-08T06:36:32Z",
        "last_heartbeat_at":"2025-11-12T08:30:15.250Z","current_build":"b-00000001","rtt_ms":23.46,
        "packet_loss":0.0012,"recent_failures":{"ETIMEDOUT":2,"ECONNRESET":0,"EHOSTUNREACH":0,"build_error":1},
        "offline_reason":null,"operation":null})");
}

QByteArray replaced(const QByteArray &from, const QByteArray &to)
{
    QByteArray json = workerJson();
    Q_ASSERT(json.contains(from));
    return json.replace(from, to);
}

} // namespace

class TestWireDecode : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decodesWorker();
    void rejectsBadWorker_data();
    void rejectsBadWorker();
    void keepsUnknownEnumValues();
    void keepsUnknownFieldsAndReasons();
    void markupStaysText();
    void hostileBodies_data();
    void hostileBodies();
    void snapshotRoundTripsFromSimulation();
    void healthGapsDecodeAsGaps();
    void problemDocument();
    void events_data();
    void events();
    void timeOffsets();
    void fieldsInAnyOrder();
};

void TestWireDecode::decodesWorker()
{
    WireDecoder decoder;
    const auto r = decoder.worker(workerJson(), kEndpoint);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const Worker &w = r.value();
    QCOMPARE(w.id, QStringLiteral("w-000001"));
    QCOMPARE(w.arch, Arch::Amd64);
    QCOMPARE(w.state, WorkerState::Busy);
    QCOMPARE(w.startedAt, qint64(1762583792000));
    QCOMPARE(w.lastHeartbeatAt, qint64(1762936215250));
    QCOMPARE(w.currentBuild, QStringLiteral("b-00000001"));
    QVERIFY(w.offlineReason.isEmpty());
    QCOMPARE(w.recentFailures[int(FailureReason::ETimedOut)], 2);
    QCOMPARE(w.recentFailures[int(FailureReason::BuildError)], 1);
    QCOMPARE(w.rttMs, 23.46);
    QVERIFY(w.unknown.isEmpty());
}

void TestWireDecode::rejectsBadWorker_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing id") << replaced(R"("id":"w-000001",)", "") << QStringLiteral("missing field \"id\"");
    QTest::newRow("missing state") << replaced(R"("state":"busy",)", "") << QStringLiteral("missing field \"state\"");
    QTest::newRow("state is a number") << replaced(R"("state":"busy")", R"("state":3)")
                                       << QStringLiteral("state: expected a string, got a number");
    QTest::newRow("rtt is a string") << replaced(R"("rtt_ms":23.46)", R"("rtt_ms":"fast")")
                                     << QStringLiteral("rtt_ms: expected a number, got a string");
    QTest::newRow("name is null") << replaced(R"("name":"eu-central-x64-00001")", R"("name":null)")
                                  << QStringLiteral("name: expected a string, got null");
    QTest::newRow("time without offset") << replaced("2025-11-08T06:36:32Z", "2025-11-08T06:36:32")
                                         << QStringLiteral("started_at: \"2025-11-08T06:36:32\" is not an RFC 3339");
    QTest::newRow("failure count fractional") << replaced(R"("ETIMEDOUT":2)", R"("ETIMEDOUT":2.5)")
                                              << QStringLiteral("recent_failures.ETIMEDOUT: expected a whole number");
    QTest::newRow("not an object") << QByteArray("[1,2]") << QStringLiteral("expected an object, got an array");
}

void TestWireDecode::rejectsBadWorker()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    WireDecoder decoder;
    const auto r = decoder.worker(json, kEndpoint);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().startsWith(kEndpoint + QStringLiteral(": ")), qPrintable(r.error()));
    QVERIFY2(r.error().contains(message), qPrintable(r.error()));
    // The decoder stays usable after an error.
    QVERIFY(decoder.worker(workerJson(), kEndpoint).ok());
}

void TestWireDecode::keepsUnknownEnumValues()
{
    WireDecoder decoder;
    auto json
        = replaced(R"("state":"busy")", R"("state":"hibernating")").replace(R"("arch":"amd64")", R"("arch":"riscv64")");
    const auto r = decoder.worker(json, kEndpoint);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value().state, WorkerState::Unknown);
    QCOMPARE(r.value().arch, Arch::Unknown);
    QCOMPARE(r.value().unknown.value(QStringLiteral("state")), QStringLiteral("hibernating"));
    QCOMPARE(r.value().unknown.value(QStringLiteral("arch")), QStringLiteral("riscv64"));
    QCOMPARE(wireName(WorkerState::Unknown), QStringView(u"unknown"));
}

void TestWireDecode::keepsUnknownFieldsAndReasons()
{
    WireDecoder decoder;
    auto json = replaced(R"("build_error":1})", R"("build_error":1,"EDQUOT":4},"gpu":{"model":"none"})");
    const auto r = decoder.worker(json, kEndpoint);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value().unknown.value(QStringLiteral("recent_failures.EDQUOT")), QStringLiteral("4"));
    QCOMPARE(r.value().unknown.value(QStringLiteral("gpu")), QStringLiteral(R"({"model":"none"})"));
}

void TestWireDecode::markupStaysText()
{
    WireDecoder decoder;
    const auto r = decoder.worker(
        replaced(R"("name":"eu-central-x64-00001")", R"("name":"<b>pwn</b><img src=x onerror=alert(1)> \u202e")"),
        kEndpoint);
    QVERIFY(r.ok());
    QCOMPARE(r.value().name, QStringLiteral("<b>pwn</b><img src=x onerror=alert(1)> ") + QChar(0x202e));
}

void TestWireDecode::hostileBodies_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("empty") << QByteArray() << QStringLiteral("empty");
    QTest::newRow("html") << QByteArray("<html><body>502 Bad Gateway<script>alert(1)</script></body></html>")
                          << QStringLiteral("HTML page");
    QTest::newRow("truncated") << workerJson().left(100) << QStringLiteral("not valid JSON");
    QTest::newRow("nested deep") << QByteArray(100000, '[') << QStringLiteral("not valid JSON");
    QTest::newRow("wrong types") << QByteArray(
        R"({"id":42,"items":"many","workers":{"state":7},"regions":null,"sequence":"x"})")
                                 << QStringLiteral("expected");
    QTest::newRow("huge number") << QByteArray(R"({"sequence":1e400})") << QStringLiteral("JSON");
    QTest::newRow("invalid utf8") << QByteArray("{\"sequence\":\"\xff\xfe\"}") << QStringLiteral("JSON");
}

void TestWireDecode::hostileBodies()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, message);
    WireDecoder decoder;
    const auto r = decoder.snapshot(body, QStringLiteral("GET /v1/fleet/snapshot"));
    QVERIFY(!r.ok());
    QVERIFY2(r.error().contains(message), qPrintable(r.error()));
    QVERIFY(r.error().startsWith(QLatin1String("GET /v1/fleet/snapshot: ")));
}

void TestWireDecode::snapshotRoundTripsFromSimulation()
{
    QString error;
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"), &error);
    sim::Simulation simulation(std::move(*scenario), {});
    simulation.advance(3 * 3600);
    sim::ActionRequest request;
    request.actor = QStringLiteral("alice");
    request.reason = QStringLiteral("replace");
    request.idempotencyKey = QStringLiteral("k");
    simulation.provision(1, 3, Arch::Aarch64, request);
    const QByteArray json = simulation.snapshotJson();

    WireDecoder decoder;
    const auto r = decoder.snapshot(json, QStringLiteral("GET /v1/fleet/snapshot"));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    const Snapshot &s = r.value();
    QCOMPARE(s.sequence, simulation.events().lastId());
    QCOMPARE(s.time, simulation.now());
    QCOMPARE(int(s.workers.size()), simulation.workerCount());
    for (int i = 0; i < simulation.workerCount(); ++i) {
        const Worker &a = s.workers[i];
        const Worker &b = simulation.worker(i);
        QCOMPARE(a.id, b.id);
        QCOMPARE(a.state, b.state);
        QCOMPARE(a.region, b.region);
        QCOMPARE(a.arch, b.arch);
        QCOMPARE(a.lastHeartbeatAt, b.lastHeartbeatAt);
        QCOMPARE(a.currentBuild, b.currentBuild);
        QCOMPARE(a.offlineReason, b.offlineReason);
        QCOMPARE(a.recentFailures, b.recentFailures);
        QCOMPARE(a.operation, b.operation);
        QVERIFY(qAbs(a.rttMs - b.rttMs) < 1e-3);
    }
    QCOMPARE(int(s.regions.size()), simulation.regionCount());
    QCOMPARE(s.regions[0].workersByState, simulation.region(0).workersByState);
    QCOMPARE(s.regions[0].dispatchState, simulation.region(0).dispatchState);
    QCOMPARE(s.operations.size(), std::size_t(1));
    QCOMPARE(s.operations[0].arch, Arch::Aarch64);
    QCOMPARE(s.operations[0].count, 3);
    QCOMPARE(s.operations[0].requestedBy, QStringLiteral("alice"));
}

void TestWireDecode::healthGapsDecodeAsGaps()
{
    const QByteArray json
        = R"({"region":"eu-west","from":"2025-11-12T07:00:00Z","to":"2025-11-12T08:02:00Z","step_s":60,
        "history_start":"2025-11-12T08:00:01Z","buckets":[
        {"time":"2025-11-12T07:59:00Z","step_s":60,"samples":0,"workers_by_state":null,"builds":null,"failures":null,
         "rtt_ms":null,"packet_loss":null,"queue":null},
        {"time":"2025-11-12T08:00:00Z","step_s":60,"samples":59,"workers_by_state":{"provisioning":0,"idle":3,"busy":5,
         "draining":0,"offline":1,"terminated":0},"builds":{"started":4,"succeeded":3,"failed":1},
         "failures":{"ETIMEDOUT":1,"ECONNRESET":0,"EHOSTUNREACH":0,"build_error":0},"rtt_ms":{"p50":30,"p95":41.5},
         "packet_loss":0.002,"queue":{"depth":2,"wait_s_p50":1.5,"wait_s_p95":9}}]})";
    WireDecoder decoder;
    const auto r = decoder.health(json, QStringLiteral("GET /v1/regions/eu-west/health"));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value().buckets.size(), std::size_t(2));
    QCOMPARE(r.value().buckets[0].samples, 0);
    QCOMPARE(r.value().buckets[1].samples, 59);
    QCOMPARE(r.value().buckets[1].workersByState[int(WorkerState::Offline)], 1);
    QCOMPARE(r.value().buckets[1].failures[int(FailureReason::ETimedOut)], 1);
    QCOMPARE(r.value().buckets[1].rttP95Ms, 41.5);
    QCOMPARE(r.value().buckets[1].waitP95Seconds, 9.0);
    // Data claimed but missing is an error, not a silent zero.
    QByteArray lying = json;
    lying.replace(R"("samples":0)", R"("samples":5)");
    const auto bad = decoder.health(lying, QStringLiteral("GET /v1/regions/eu-west/health"));
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().contains(QLatin1String("buckets[0]")), qPrintable(bad.error()));
}

void TestWireDecode::problemDocument()
{
    WireDecoder decoder;
    const auto r = decoder.problem(R"({"type":"urn:fleet-api:problem:invalid-parameter","title":"Invalid parameter",
        "status":422,"detail":"count must be from 1 to 200","instance":"/v1/regions/eu-west/provision",
        "invalid_params":[{"name":"count","reason":"must be from 1 to 200"}]})",
        QStringLiteral("POST /v1/regions/eu-west/provision"));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value().status, 422);
    QCOMPARE(r.value().invalidParams.size(), 1);
    QCOMPARE(r.value().invalidParams.first().first, QStringLiteral("count"));
}

void TestWireDecode::events_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("index"); // the variant alternative expected
    QTest::newRow("worker") << QStringLiteral("worker") << workerJson() << 1;
    QTest::newRow("health") << QStringLiteral("health")
                            << QByteArray(R"({"region":"eu-west","sample":{"time":"2025-11-12T08:00:00Z","step_s":1,
        "samples":1,"workers_by_state":{"provisioning":0,"idle":3,"busy":5,"draining":0,"offline":1,"terminated":0},
        "builds":{"started":1,"succeeded":0,"failed":0},"failures":{"ETIMEDOUT":0,"ECONNRESET":0,"EHOSTUNREACH":0,
        "build_error":0},"rtt_ms":{"p50":30,"p95":41.5},"packet_loss":0.002,"queue":{"depth":0,"wait_s_p50":0,
        "wait_s_p95":0}}})") << 3;
    QTest::newRow("resync") << QStringLiteral("resync") << QByteArray(R"({"reason":"events_expired","sequence":42})")
                            << 6;
    QTest::newRow("future type") << QStringLiteral("maintenance") << QByteArray(R"({"anything":true})") << 0;
}

void TestWireDecode::events()
{
    QFETCH(QString, type);
    QFETCH(QByteArray, data);
    QFETCH(int, index);
    WireDecoder decoder;
    const auto r = decoder.event(7, type, data);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value().id, 7);
    QCOMPARE(r.value().type, type);
    QCOMPARE(int(r.value().payload.index()), index);
    if (type == QLatin1String("resync"))
        QCOMPARE(std::get<Resync>(r.value().payload).sequence, 42);
    const auto bad = decoder.event(8, QStringLiteral("worker"), "{}");
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().startsWith(QLatin1String("event 8 (worker): missing field")), qPrintable(bad.error()));
}

void TestWireDecode::timeOffsets()
{
    WireDecoder decoder;
    const auto r = decoder.worker(replaced("2025-11-08T06:36:32Z", "2025-11-08T07:36:32+01:00"), kEndpoint);
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(r.value().startedAt, qint64(1762583792000));
}

void TestWireDecode::fieldsInAnyOrder()
{
    // Servers usually write fields in the documented order (the decoder's fast path), but JSON objects are
    // unordered: any order must decode the same.
    const QByteArray shuffled = R"({"operation":null,"offline_reason":null,"recent_failures":{"build_error":1,
        "EHOSTUNREACH":0,"ECONNRESET":0,"ETIMEDOUT":2},"packet_loss":0.0012,"rtt_ms":23.46,"current_build":"b-00000001",
        "last_heartbeat_at":"2025-11-12T08:30:15.250Z","started_at":"2025-11-08T06:36:32Z","version":"2025.11.2",
        "state":"busy","arch":"amd64","region":"eu-central","name":"eu-central-x64-00001","id":"w-000001"})";
    WireDecoder decoder;
    const auto a = decoder.worker(shuffled, kEndpoint);
    const auto b = decoder.worker(workerJson(), kEndpoint);
    QVERIFY2(a.ok(), qPrintable(a.error()));
    QCOMPARE(a.value().id, b.value().id);
    QCOMPARE(a.value().name, b.value().name);
    QCOMPARE(a.value().state, b.value().state);
    QCOMPARE(a.value().recentFailures, b.value().recentFailures);
    QCOMPARE(a.value().lastHeartbeatAt, b.value().lastHeartbeatAt);
    QVERIFY(a.value().unknown.isEmpty());
}

QTEST_APPLESS_MAIN(TestWireDecode)
#include "tst_wiredecode.moc"
