// The incident record and its bundle (issue #24): the bundle's lines read back as written and a hostile bundle is
// refused with its line and field; a console restarted in the middle of the seed incident shows the same timeline
// and postmortem draft as one that ran throughout (real fleet-sim, real SQLite file); health is recorded only
// around trouble; the record is bounded by age and size.

#include "actioncontroller.h"
#include "fleetaction.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "incidentbundle.h"
#include "incidentmetrics.h"
#include "incidentrecorder.h"
#include "incidentsteps.h"
#include "incidenttimeline.h"
#include "localstore.h"
#include "simharness.h"
#include "statusoutbox.h"

#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace fleet;

namespace {

bundle::Bundle smallBundle()
{
    bundle::Bundle b;
    b.header.fleet = QStringLiteral("https://fleet.example.com");
    b.header.title = QStringLiteral("EU Central <b>loss</b>");
    b.header.recordedBy = QStringLiteral("test");
    b.header.fromMs = 1762934400000; // 2025-11-12T08:00:00Z
    b.header.toMs = b.header.fromMs + 3600 * 1000;
    Region r;
    r.id = QStringLiteral("eu-central");
    r.name = QStringLiteral("EU Central");
    r.provider = QStringLiteral("Hetzner");
    r.location = QStringLiteral("Falkenstein, DE");
    b.header.regions << r;
    b.header.thresholds = thresholdMap(VerdictThresholds {});
    bundle::Event v;
    v.kind = bundle::Event::Kind::Verdict;
    v.atMs = b.header.fromMs + 61000;
    v.region = r.id;
    v.regionName = r.name;
    v.from = QStringLiteral("healthy");
    v.to = QStringLiteral("degraded");
    v.reason = QStringLiteral("packet loss 7%");
    bundle::Event op;
    op.kind = bundle::Event::Kind::Operation;
    op.atMs = b.header.fromMs + 120000;
    op.operation.id = QStringLiteral("op-000001");
    op.operation.type = OperationType::DrainRegion;
    op.operation.state = OperationState::Running;
    op.operation.region = r.id;
    op.operation.reason = QStringLiteral("loss");
    op.operation.requestedBy = QStringLiteral("ana");
    op.operation.idempotencyKey = QStringLiteral("k-1");
    op.operation.createdAt = op.atMs;
    op.operation.updatedAt = op.atMs;
    op.region = r.id;
    bundle::Event u;
    u.kind = bundle::Event::Kind::StatusUpdate;
    u.atMs = b.header.fromMs + 90000;
    u.incidentId = QStringLiteral("inc-1");
    u.incidentName = QStringLiteral("Build failures");
    u.updateId = QStringLiteral("upd-1");
    u.status = QStringLiteral("investigating");
    u.body = QStringLiteral("We are looking into it.\nSecond line.");
    bundle::Event a;
    a.kind = bundle::Event::Kind::Alert;
    a.atMs = b.header.fromMs + 30000;
    a.alertName = QStringLiteral("FleetRegionPacketLoss");
    a.fingerprint = QStringLiteral("abc123");
    a.region = r.id;
    a.to = QStringLiteral("firing");
    a.body = QStringLiteral("loss over 5%");
    b.events << a << v << u << op;
    bundle::Samples s;
    s.region = r.id;
    s.fromSecond = b.header.fromMs / 1000;
    for (int c = 0; c < bundle::kColumnCount; ++c)
        for (int i = 0; i < 60; ++i)
            s.columns[std::size_t(c)].push_back(i == 7 ? std::numeric_limits<float>::quiet_NaN() : float(c * 0.5 + i));
    b.samples << s;
    return b;
}

QByteArray fileOf(const bundle::Bundle &b)
{
    QByteArray out = bundle::encodeHeader(b.header) + '\n';
    for (const bundle::Event &e : b.events)
        out += bundle::encodeEvent(e) + '\n';
    for (const bundle::Samples &s : b.samples)
        out += bundle::encodeSamples(s) + '\n';
    return out;
}

struct Console
{
    Console(SimHarness &sim, const QString &storePath)
    {
        QVERIFY(session.openLocalStore(storePath));
        session.connectTo(sim.profile(QStringLiteral("test")), QStringLiteral("op-secret"));
        StatusPageConfig page;
        page.baseUrl = sim.url(QStringLiteral("/statuspage/v1"));
        page.pageId = QStringLiteral("fleetdemo");
        page.apiKey = QStringLiteral("demo-statuspage-key");
        session.setStatusPage(page);
    }
    bool ready() const { return session.isLive() && session.identity().has_value() && session.store()->isLoaded(); }
    FleetSession session;
};

} // namespace

class TestIncidentRecord : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aBundleReadsBackAsWritten()
    {
        const bundle::Bundle b = smallBundle();
        const QByteArray file = fileOf(b);
        auto back = bundle::decode(file, QStringLiteral("t.jsonl"));
        QVERIFY2(back.ok(), qPrintable(back.error()));
        QCOMPARE(back->header.fleet, b.header.fleet);
        QCOMPARE(back->header.title, b.header.title);
        QCOMPARE(back->header.fromMs, b.header.fromMs);
        QCOMPARE(back->header.toMs, b.header.toMs);
        QCOMPARE(back->header.regions.size(), 1);
        QCOMPARE(back->header.regions[0].name, QStringLiteral("EU Central"));
        QCOMPARE(back->header.thresholds, b.header.thresholds);
        QCOMPARE(back->events.size(), 4);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(back->events[i].key(), b.events[i].key()); // same kind, time and subject
            QCOMPARE(bundle::encodeEvent(back->events[i]), bundle::encodeEvent(b.events[i]));
        }
        QCOMPARE(back->events[2].body, QStringLiteral("We are looking into it.\nSecond line."));
        QCOMPARE(back->events[3].operation.requestedBy, QStringLiteral("ana"));
        QCOMPARE(back->samples.size(), 1);
        QCOMPARE(back->samples[0].seconds(), 60);
        QVERIFY(std::isnan(back->samples[0].columns[3][7])); // a gap stays a gap
        QCOMPARE(back->samples[0].columns[13][8], 13 * 0.5f + 8);
        // The timeline shows the bundle's events as it shows live ones.
        const auto entries = IncidentTimeline::entriesOf(back->events);
        QCOMPARE(entries.size(), 4);
        QCOMPARE(entries[1].kind, IncidentTimeline::Entry::Kind::Verdict);
        QVERIFY2(entries[1].text.startsWith(QLatin1String("EU Central became degraded at 08:01:01 UTC")),
            qPrintable(entries[1].text));
        QCOMPARE(entries[3].type, QStringLiteral("drain_region"));
    }

    void aHostileBundleIsRefusedWithItsLineAndField_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("expected");
        const QByteArray good = fileOf(smallBundle());
        const QList<QByteArray> lines = good.split('\n');
        const QByteArray header = lines[0] + '\n';
        QTest::newRow("not a bundle") << QByteArray("{\"format\":\"other\"}\n")
                                      << QStringLiteral("not an incident bundle");
        QTest::newRow("newer") << QByteArray(good).replace("\"version\":1", "\"version\":9")
                               << QStringLiteral("version 9 of the bundle format");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("empty");
        QTest::newRow("not json") << header + "{oops\n" << QStringLiteral("line 2: not JSON");
        QTest::newRow("path in a region")
            << header + R"({"at":"2025-11-12T08:00:00Z","kind":"verdict","region":"../admin","to":"down"})" + '\n'
            << QStringLiteral("line 2: region:");
        QTest::newRow("not a verdict") << header
                + R"({"at":"2025-11-12T08:00:00Z","kind":"verdict","region":"eu-central","to":"<b>x</b>"})"
                + '\n' << QStringLiteral("line 2: to: not a verdict");
        QTest::newRow("time out of range")
            << header + R"({"at":"1970-01-01T00:00:00Z","kind":"verdict","region":"eu-central","to":"down"})" + '\n'
            << QStringLiteral("line 2: at: not a UTC time");
        QTest::newRow("unknown kind") << header + R"({"at":"2025-11-12T08:00:00Z","kind":"rm -rf"})" + '\n'
                                      << QStringLiteral("line 2: kind:");
        QByteArray negative = lines[5];
        negative.replace("[0,1,", "[0,-1,");
        QTest::newRow("negative sample") << header + negative + '\n' << QStringLiteral("not a number from 0 to 1e9");
        QByteArray ragged = lines[5];
        ragged.replace("\"workers_busy\":[0.5,", "\"workers_busy\":[");
        QTest::newRow("ragged columns") << header + ragged + '\n' << QStringLiteral("every column the same length");
        QByteArray stranger = lines[5];
        stranger.replace("\"region\":\"eu-central\"", "\"region\":\"us-east\"");
        QTest::newRow("a region not in the header") << header + stranger + '\n'
                                                    << QStringLiteral("is not one of the header's regions");
        QTest::newRow("a huge line") << header + QByteArray(bundle::kMaxLineBytes + 10, 'x') + '\n'
                                     << QStringLiteral("line 2: a line of");
    }

    void aHostileBundleIsRefusedWithItsLineAndField()
    {
        QFETCH(QByteArray, file);
        QFETCH(QString, expected);
        auto r = bundle::decode(file, QStringLiteral("t.jsonl"));
        QVERIFY(!r.ok());
        QVERIFY2(r.error().contains(expected), qPrintable(r.error()));
        QVERIFY2(r.error().startsWith(QLatin1String("t.jsonl")), qPrintable(r.error()));
    }

    // Console A watches the seed incident from 08:00 to 09:40 (EU Central degraded, a status update, a drain) and is
    // closed; console B opens the same file and the same fleet: its timeline has A's verdict changes (which B's own
    // monitor never saw change), the update and the operation, and its postmortem draft is A's.
    void aRestartedConsoleHasTheWholeStory()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("store.sqlite"));
        SimHarness sim;
        QList<IncidentTimeline::Entry> before;
        QString draftBefore;
        status::Incident incident;
        {
            Console a(sim, path);
            QTRY_VERIFY_WITH_TIMEOUT(a.ready(), 15000);
            toTheIncident(sim, a.session);
            statuspage::IncidentChange change;
            change.name = QStringLiteral("Build failures in EU Central");
            change.status = QStringLiteral("investigating");
            change.body = QStringLiteral("We are looking into it.");
            QSignalSpy delivered(a.session.statusOutbox(), &StatusOutbox::delivered);
            QVERIFY(a.session.statusOutbox()->open(change));
            QTRY_VERIFY_WITH_TIMEOUT(delivered.size() == 1, 15000);
            incident = delivered[0][1].value<status::Incident>();
            const int drain = a.session.actions()->perform(
                FleetAction::drainRegion(QStringLiteral("eu-central"), QStringLiteral("upstream loss")));
            QVERIFY(drain > 0);
            QTRY_VERIFY_WITH_TIMEOUT(!a.session.store()->operations().empty(), 15000);
            for (int i = 0; i < 5; ++i) {
                sim.advance(300);
                QTest::qWait(100);
            }
            QTRY_VERIFY_WITH_TIMEOUT(a.session.store()->fleetNowMs() >= sim.sim().now() - 2000, 30000);
            before = a.session.timeline()->entries(incident);
            draftBefore = IncidentTimeline::postmortemDraft(before, incident);
            QVERIFY(std::any_of(before.cbegin(), before.cend(), [](const IncidentTimeline::Entry &e) {
                return e.kind == IncidentTimeline::Entry::Kind::Verdict && e.regionId == QLatin1String("eu-central")
                    && e.detail != QLatin1String("healthy");
            }));
            // Health was recorded around the trouble, not before it: from 10 minutes before the verdict.
            QTRY_VERIFY_WITH_TIMEOUT(a.session.recorder()->samplesRecorded() > 0, 10000);
            a.session.localStore()->close(); // waits for every write
        }
        {
            Console b(sim, path);
            QSignalSpy restored(b.session.recorder(), &IncidentRecorder::restored);
            QTRY_VERIFY_WITH_TIMEOUT(b.ready(), 15000);
            QTRY_VERIFY_WITH_TIMEOUT(restored.size() == 1, 15000);
            const auto after = b.session.timeline()->entries(incident);
            QStringList was;
            QStringList is;
            for (const auto &e : before)
                was << QStringLiteral("%1 %2").arg(e.atMs).arg(e.text);
            for (const auto &e : after)
                is << QStringLiteral("%1 %2").arg(e.atMs).arg(e.text);
            QCOMPARE(is, was);
            QCOMPARE(IncidentTimeline::postmortemDraft(after, incident), draftBefore);

            // The record as a bundle: verdicts, the update, the drain, and a minute of health of every region from
            // (about) ten minutes before EU Central's verdict, none from the calm hour before.
            auto record = IncidentRecorder::read(b.session.localStore(), QString(), 0, 0);
            QVERIFY2(record.ok(), qPrintable(record.error()));
            QCOMPARE(record->header.fleet, IncidentRecorder::fleetKey(sim.profile().url));
            QVERIFY(record->header.regions.size() >= 5);
            const auto kinds = [&record](bundle::Event::Kind k) {
                return std::count_if(record->events.cbegin(), record->events.cend(),
                    [k](const bundle::Event &e) { return e.kind == k; });
            };
            QVERIFY(kinds(bundle::Event::Kind::Verdict) >= 1);
            QCOMPARE(kinds(bundle::Event::Kind::StatusUpdate), 1);
            QVERIFY(kinds(bundle::Event::Kind::Operation) >= 1);
            QVERIFY(!record->samples.isEmpty());
            qint64 firstVerdict = 0;
            for (const auto &e : std::as_const(record->events))
                if (e.kind == bundle::Event::Kind::Verdict && e.region == QLatin1String("eu-central") && !firstVerdict)
                    firstVerdict = e.atMs / 1000;
            const qint64 firstSample = record->samples.first().fromSecond;
            QVERIFY2(firstSample >= firstVerdict - IncidentRecorder::kPreRollSeconds - 60
                    && firstSample <= firstVerdict - IncidentRecorder::kPreRollSeconds + 60,
                qPrintable(QStringLiteral("first sample %1, verdict %2").arg(firstSample).arg(firstVerdict)));
            // It writes as a file and reads back whole.
            QByteArray file = bundle::encodeHeader(record->header) + '\n';
            for (const auto &e : std::as_const(record->events))
                file += bundle::encodeEvent(e) + '\n';
            for (const auto &s : std::as_const(record->samples))
                file += bundle::encodeSamples(s) + '\n';
            auto back = bundle::decode(file, QStringLiteral("record.jsonl"));
            QVERIFY2(back.ok(), qPrintable(back.error()));
            QCOMPARE(back->events.size(), record->events.size());
            QCOMPARE(back->samples.size(), record->samples.size());
        }
    }

    // Past its retention rows go; past its size the oldest go first, samples before events.
    void theRecordIsBoundedByAgeAndSize()
    {
        QTemporaryDir dir;
        LocalStore store;
        QVERIFY(store.open(dir.filePath(QStringLiteral("store.sqlite"))));
        const qint64 now = 1800000000000;
        const QByteArray kilobyte(1024, 'x');
        QVERIFY(store.readNow([&](QSqlDatabase &db) {
            QSqlQuery q(db);
            for (int i = 0; i < 200; ++i) {
                q.prepare(QStringLiteral("INSERT INTO record_samples (fleet, region, second, line, recorded_ms) "
                                         "VALUES ('f', 'eu', ?, ?, ?)"));
                q.addBindValue(i * 60);
                q.addBindValue(kilobyte);
                q.addBindValue(now - (200 - i) * 60000LL); // the oldest 200 minutes ago
                QVERIFY(q.exec());
            }
            q.prepare(QStringLiteral("INSERT INTO record_events (fleet, key, at_ms, kind, region, line, recorded_ms) "
                                     "VALUES ('f', 'old', 0, 'verdict', 'eu', 'x', ?), ('f', 'new', 1, 'verdict', "
                                     "'eu', 'y', ?)"));
            q.addBindValue(now - 40LL * 24 * 3600 * 1000);
            q.addBindValue(now);
            QVERIFY(q.exec());
        }));
        QCOMPARE(IncidentRecorder::sizeBytes(&store), 200 * 1024 + 2);
        QString error = QStringLiteral("not run");
        // 30 days: the 40-day-old event goes, nothing else.
        store.readNow(
            [&](QSqlDatabase &db) { error = IncidentRecorder::prune(db, 30LL * 24 * 3600 * 1000, 1 << 30, now); });
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(IncidentRecorder::sizeBytes(&store), 200 * 1024 + 1);
        // 100 KB: the oldest samples go until it fits; the newest stay.
        store.readNow(
            [&](QSqlDatabase &db) { error = IncidentRecorder::prune(db, 30LL * 24 * 3600 * 1000, 100 * 1024, now); });
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const qint64 size = IncidentRecorder::sizeBytes(&store);
        QVERIFY2(size <= 100 * 1024 && size > 80 * 1024, qPrintable(QString::number(size)));
        qint64 oldest = -1;
        qint64 newest = -1;
        store.readNow([&](QSqlDatabase &db) {
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("SELECT min(second), max(second) FROM record_samples")) && q.next());
            oldest = q.value(0).toLongLong();
            newest = q.value(1).toLongLong();
        });
        QCOMPARE(newest, 199 * 60);
        QVERIFY2(oldest >= 100 * 60, qPrintable(QString::number(oldest)));
    }
};

QTEST_GUILESS_MAIN(TestIncidentRecord)
#include "tst_incidentrecord.moc"
