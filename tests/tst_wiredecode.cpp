#include "jsonwriter.h"
#include "simulation.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <QDateTime>
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

// A snapshot body around these worker objects.
QByteArray snapshotOf(const QList<QByteArray> &workers)
{
    return QByteArrayLiteral(R"({"sequence":7,"time":"2025-11-12T08:30:16Z","regions":[],"workers":[)")
        + workers.join(',') + QByteArrayLiteral(R"(],"operations":[]})");
}

// Worker i of a fleet of valid workers with varied values: ids, states, times on several days, builds, nulls.
QByteArray variedWorker(int i)
{
    static const char *const states[] = { "idle", "busy", "offline", "provisioning", "draining", "terminated" };
    static const char *const arches[] = { "amd64", "aarch64", "armv7hf" };
    const bool busy = i % 6 == 1;
    const bool offline = i % 6 == 2;
    return QStringLiteral(R"({"id":"w-%1","name":"eu-west-%2-%1","region":"%3","arch":"%2","state":"%4",)"
                          R"("version":"2025.%5","started_at":"2025-%6-%7T%8:%9:5%10Z","last_heartbeat_at":%11,)"
                          R"("current_build":%12,"rtt_ms":%13,"packet_loss":%14,"recent_failures":{"ETIMEDOUT":%15,)"
                          R"("ECONNRESET":0,"EHOSTUNREACH":%16,"build_error":1},"offline_reason":%17,"operation":%18})")
        .arg(i, 6, 10, QLatin1Char('0'))
        .arg(QLatin1String(arches[i % 3]))
        .arg(i % 7 < 4 ? QStringLiteral("eu-west") : QStringLiteral("us-east"))
        .arg(QLatin1String(states[i % 6]))
        .arg(i % 5 == 0 ? QStringLiteral("10.4") : QStringLiteral("11.2"))
        .arg(10 + i % 3)
        .arg(10 + i % 19)
        .arg(i % 24, 2, 10, QLatin1Char('0'))
        .arg(i % 60, 2, 10, QLatin1Char('0'))
        .arg(i % 10)
        .arg(offline ? QStringLiteral("null")
                     : QStringLiteral("\"2025-11-12T0%1:%2:%3%4Z\"")
                           .arg(i % 10)
                           .arg(10 + i % 50)
                           .arg(10 + i % 49)
                           .arg(i % 4 == 0 ? QStringLiteral(".250") : QString()))
        .arg(busy ? QStringLiteral("\"b-%1\"").arg(i) : QStringLiteral("null"))
        .arg(i % 4 == 0 ? QStringLiteral("%1").arg(20 + i % 30) : QStringLiteral("%1.%2").arg(20 + i % 30).arg(i % 97))
        .arg(i % 3 == 0 ? QStringLiteral("0") : QStringLiteral("0.00%1").arg(i % 9 + 1))
        .arg(i % 11)
        .arg(i % 2)
        .arg(offline ? QStringLiteral("\"heartbeat_lost\"") : QStringLiteral("null"))
        .arg(i % 9 == 0 ? QStringLiteral("\"op-%1\"").arg(i / 9) : QStringLiteral("null"))
        .toUtf8();
}

// The first field in which two workers differ, or an empty string.
QString difference(const Worker &a, const Worker &b)
{
    const auto dump = [](const Worker &w) {
        QStringList fields { w.id, w.name, w.region, QString::number(int(w.arch)), QString::number(int(w.state)),
            w.version, QString::number(w.startedAt), QString::number(w.lastHeartbeatAt), w.currentBuild,
            QString::number(w.rttMs, 'g', 17), QString::number(w.packetLoss, 'g', 17), w.offlineReason, w.operation,
            QString::number(w.currentBuild.isNull()), QString::number(w.offlineReason.isNull()),
            QString::number(w.operation.isNull()) };
        for (int n : w.recentFailures)
            fields << QString::number(n);
        for (auto it = w.unknown.begin(); it != w.unknown.end(); ++it)
            fields << it.key() + u'=' + it.value();
        return fields;
    };
    const QStringList x = dump(a), y = dump(b);
    for (qsizetype i = 0; i < std::max(x.size(), y.size()); ++i) {
        if (x.value(i) != y.value(i))
            return QStringLiteral("%1: field %2: \"%3\" vs \"%4\"").arg(a.id).arg(i).arg(x.value(i), y.value(i));
    }
    return {};
}

// Decodes `json` with the worker fast path on and off: both must give the same workers, or the same error.
// Returns how many workers the fast path took.
qsizetype decodeBothWays(const QByteArray &json, const char *what)
{
    WireDecoder fast;
    WireDecoder general;
    general.setWorkerFastPath(false);
    const auto a = fast.snapshot(json, QStringLiteral("GET /v1/fleet/snapshot"));
    const auto b = general.snapshot(json, QStringLiteral("GET /v1/fleet/snapshot"));
    if (a.ok() != b.ok() || (!a.ok() && a.error() != b.error())) {
        qWarning("%s: fast path %s, general decoder %s", what, qPrintable(a.ok() ? QStringLiteral("ok") : a.error()),
            qPrintable(b.ok() ? QStringLiteral("ok") : b.error()));
        return -1;
    }
    if (general.lastFastPathWorkers() != 0) {
        qWarning("%s: the fast path ran while turned off", what);
        return -1;
    }
    if (!a.ok())
        return fast.lastFastPathWorkers();
    if (a.value().workers.size() != b.value().workers.size()) {
        qWarning("%s: %zu vs %zu workers", what, a.value().workers.size(), b.value().workers.size());
        return -1;
    }
    for (std::size_t i = 0; i < a.value().workers.size(); ++i) {
        const QString diff = difference(a.value().workers[i], b.value().workers[i]);
        if (!diff.isEmpty()) {
            qWarning("%s: worker %zu: %s", what, i, qPrintable(diff));
            return -1;
        }
    }
    return fast.lastFastPathWorkers();
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
    void fastPathMatchesGeneralDecoder();
    void fastPathHandsOverAtFirstDifference_data();
    void fastPathHandsOverAtFirstDifference();
    void fastPathOnSimulatedFleetAndPages();
    void timesAcrossDays_data();
    void timesAcrossDays();
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
    QTest::newRow("negative failure count")
        << replaced(R"("ETIMEDOUT":2)", R"("ETIMEDOUT":-3)")
        << QStringLiteral("recent_failures.ETIMEDOUT: expected a count from 0 to 2147483647, got -3");
    QTest::newRow("failure count past int") << replaced(R"("ETIMEDOUT":2)", R"("ETIMEDOUT":4294967298)")
                                            << QStringLiteral("expected a count from 0 to 2147483647, got 4294967298");
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
    QTest::newRow("huge number") << QByteArray(R"({"sequence":1e400})") << QStringLiteral("\"sequence\" is 1e400");
    QTest::newRow("invalid utf8") << QByteArray("{\"sequence\":\"\xff\xfe\"}") << QStringLiteral("JSON");
    QTest::newRow("negative sequence") << QByteArray(
        R"({"sequence":-1,"time":"2025-11-12T09:00:00Z","regions":[],"workers":[],"operations":[]})")
                                       << QStringLiteral("sequence: expected an event sequence number of 0 or more");
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
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"));
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

void TestWireDecode::fastPathMatchesGeneralDecoder()
{
    QList<QByteArray> workers;
    for (int i = 0; i < 600; ++i)
        workers << variedWorker(i);
    // Every worker in the documented shape: the fast path takes all, and they equal the general decoder's.
    QCOMPARE(decodeBothWays(snapshotOf(workers), "varied"), qsizetype(600));
    QCOMPARE(decodeBothWays(snapshotOf({}), "empty"), qsizetype(0));
    // Times with an offset are another form of the same field: still the fast path, and the same instant.
    QCOMPARE(decodeBothWays(snapshotOf({ variedWorker(30).replace("T06:30:50Z", "T07:30:50+01:00") }), "offset"),
        qsizetype(1));
    // Markup and non-ASCII text stay text on both paths.
    QCOMPARE(decodeBothWays(snapshotOf({ variedWorker(0).replace(
                                "eu-west-amd64-000000", R"(<b>x</b> \u00e9\u202e \"q\" caf\u00e9 \ud83d\ude00)") }),
                 "markup"),
        qsizetype(1));
}

void TestWireDecode::fastPathHandsOverAtFirstDifference_data()
{
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("to");
    QTest::addColumn<bool>("decodes");
    QTest::newRow("unknown field") << QByteArray(R"("operation":null})") << QByteArray(R"("operation":null,"gpu":1})")
                                   << true;
    QTest::newRow("unknown state") << QByteArray(R"("state":"idle")") << QByteArray(R"("state":"hibernating")") << true;
    QTest::newRow("unknown arch") << QByteArray(R"("arch":"amd64")") << QByteArray(R"("arch":"riscv64")") << true;
    QTest::newRow("unknown reason") << QByteArray(R"("build_error":1})") << QByteArray(R"("build_error":1,"EDQUOT":2})")
                                    << true;
    QTest::newRow("fields reordered") << QByteArray(R"("id":"w-000030","name":"eu-west-amd64-000030")")
                                      << QByteArray(R"("name":"eu-west-amd64-000030","id":"w-000030")") << true;
    QTest::newRow("count beyond int64") << QByteArray(R"("build_error":1})")
                                        << QByteArray(R"("build_error":18446744073709551615})") << false;
    QTest::newRow("negative count") << QByteArray(R"("ETIMEDOUT":8,)") << QByteArray(R"("ETIMEDOUT":-8,)") << false;
    QTest::newRow("count past int") << QByteArray(R"("ETIMEDOUT":8,)") << QByteArray(R"("ETIMEDOUT":2147483648,)")
                                    << false;
    QTest::newRow("missing field") << QByteArray(R"("version":"2025.10.4",)") << QByteArray() << false;
    QTest::newRow("state is a number") << QByteArray(R"("state":"idle")") << QByteArray(R"("state":1)") << false;
    QTest::newRow("rtt is a string") << QByteArray(R"("rtt_ms":20.30,)") << QByteArray(R"("rtt_ms":"20.30",)") << false;
    QTest::newRow("fractional count") << QByteArray(R"("ETIMEDOUT":8,)") << QByteArray(R"("ETIMEDOUT":8.5,)") << false;
    QTest::newRow("hour 24") << QByteArray("T06:30:50Z") << QByteArray("T24:30:50Z") << false;
    QTest::newRow("not a date") << QByteArray("2025-10-21T06:30:50Z") << QByteArray("2025-1O-21T06:30:50Z") << false;
    QTest::newRow("started_at null") << QByteArray(R"("started_at":"2025-10-21T06:30:50Z")")
                                     << QByteArray(R"("started_at":null)") << false;
    QTest::newRow("worker is an array") << QByteArray(R"({"id":"w-000030")") << QByteArray(R"([{"id":"w-000030")")
                                        << false;
}

void TestWireDecode::fastPathHandsOverAtFirstDifference()
{
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, to);
    QFETCH(bool, decodes);
    QList<QByteArray> workers;
    for (int i = 0; i < 40; ++i)
        workers << variedWorker(i);
    QVERIFY2(workers[30].contains(from), workers[30].constData());
    workers[30].replace(from, to);
    if (to.startsWith('['))
        workers[30].append(']');
    const QByteArray json = snapshotOf(workers);
    const qsizetype fast = decodeBothWays(json, QTest::currentDataTag());
    // The 30 workers before it on the fast path, the rest through the general decoder, the same result.
    QCOMPARE(fast, qsizetype(30));
    WireDecoder decoder;
    QVERIFY(decoder.snapshot(snapshotOf(workers.mid(0, 30)), QStringLiteral("GET /v1/fleet/snapshot")).ok());
    QCOMPARE(decoder.lastFastPathWorkers(), qsizetype(30));
    const auto r = decoder.snapshot(json, QStringLiteral("GET /v1/fleet/snapshot"));
    QCOMPARE(r.ok(), decodes);
    if (decodes)
        QCOMPARE(r.value().workers.size(), std::size_t(40));
    else
        QVERIFY2(r.error().contains(QLatin1String("workers[30]")), qPrintable(r.error()));
}

void TestWireDecode::fastPathOnSimulatedFleetAndPages()
{
    QString error;
    auto scenario = sim::Scenario::load(QStringLiteral("upstream-packet-loss"));
    sim::SimulationOptions options;
    options.workers = 3000;
    sim::Simulation simulation(std::move(*scenario), options);
    simulation.advance(2 * 3600); // busy, offline and failing workers; operations
    const QByteArray json = simulation.snapshotJson();
    QCOMPARE(decodeBothWays(json, "simulated"), qsizetype(simulation.workerCount()));

    // A worker page (GET /v1/workers) takes the same path.
    QByteArray page = json;
    page = QByteArrayLiteral(R"({"items":)") + page.mid(page.indexOf("\"workers\":") + 10);
    page.truncate(page.lastIndexOf("],\"operations\""));
    page += QByteArrayLiteral(R"(],"next_cursor":null,"total":)") + QByteArray::number(simulation.workerCount()) + '}';
    WireDecoder decoder;
    const auto r = decoder.workers(page, QStringLiteral("GET /v1/workers"));
    QVERIFY2(r.ok(), qPrintable(r.error()));
    QCOMPARE(int(r.value().items.size()), simulation.workerCount());
    QCOMPARE(decoder.lastFastPathWorkers(), qsizetype(simulation.workerCount()));
    QCOMPARE(r.value().items.back().id, simulation.worker(simulation.workerCount() - 1).id);

    // The same key twice at the top: the general decoder decides (the last one wins), not the fast path.
    const QByteArray second = QByteArray(R"("regions":[],"workers":[)") + variedWorker(2) + QByteArray("],");
    const QByteArray twice = snapshotOf({ variedWorker(1) }).replace(R"("regions":[],)", second);
    QCOMPARE(decodeBothWays(twice, "workers twice"), qsizetype(0));
}

void TestWireDecode::timesAcrossDays_data()
{
    QTest::addColumn<QByteArrayList>("times");
    QTest::addColumn<QList<qint64>>("expected"); // -1: an error
    const auto ms = [](const char *iso) {
        return QDateTime::fromString(QLatin1String(iso), Qt::ISODateWithMs).toMSecsSinceEpoch();
    };
    QTest::newRow("same day, then the next")
        << QByteArrayList { "2025-11-12T09:59:59Z", "2025-11-12T19:06:09.5Z", "2025-11-13T00:00:00Z",
               "2025-11-12T23:59:60Z" }
        << QList<qint64> { ms("2025-11-12T09:59:59Z"), ms("2025-11-12T19:06:09.500Z"), ms("2025-11-13T00:00:00Z"),
               ms("2025-11-13T00:00:00Z") };
    QTest::newRow("a bad time on a remembered day")
        << QByteArrayList { "2025-11-12T09:00:00Z", "2025-11-12T09:60:00Z" } << QList<qint64> { 0, -1 };
    QTest::newRow("a bad date after a good one")
        << QByteArrayList { "2025-11-12T09:00:00Z", "2025-13-12T09:00:00Z" } << QList<qint64> { 0, -1 };
    QTest::newRow("leap day and year end")
        << QByteArrayList { "2024-02-29T12:00:00Z", "2024-12-31T23:59:59.999Z", "1999-01-01T00:00:00z" }
        << QList<qint64> { ms("2024-02-29T12:00:00Z"), ms("2024-12-31T23:59:59.999Z"), ms("1999-01-01T00:00:00Z") };
}

void TestWireDecode::timesAcrossDays()
{
    QFETCH(QByteArrayList, times);
    QFETCH(QList<qint64>, expected);
    WireDecoder decoder;
    for (qsizetype i = 0; i < times.size(); ++i) {
        const auto r = decoder.worker(replaced("2025-11-08T06:36:32Z", times[i]), kEndpoint);
        if (expected[i] < 0) {
            QVERIFY2(!r.ok(), times[i].constData());
            QVERIFY2(r.error().contains(QLatin1String("started_at")), qPrintable(r.error()));
        } else {
            QVERIFY2(r.ok(), qPrintable(r.error()));
            if (expected[i] > 0)
                QCOMPARE(r.value().startedAt, expected[i]);
        }
    }
}

QTEST_APPLESS_MAIN(TestWireDecode)
#include "tst_wiredecode.moc"
