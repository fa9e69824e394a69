// FleetSession and HealthMonitor without any widget: connect, switch profiles, reconnect, shut down, and verdict
// changes signalled once each, against fleet-sim over loopback HTTP.

#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "regionmodel.h"
#include "simharness.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace fleet;

namespace {

ConnectionProfile profileFor(const QUrl &url, const QString &name = QStringLiteral("test"))
{
    ConnectionProfile p;
    p.name = name;
    p.url = url;
    return p;
}

} // namespace

class TestFleetSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Opening a saved profile is the core's (issue #22, item 4): its token from where the profile says, or a signal
    // that says why not, for whichever view is showing; nothing of the session changes then.
    void connectToProfileResolvesItsToken()
    {
        SimHarness sim;
        QTemporaryDir dir;
        const QString tokenFile = dir.filePath(QStringLiteral("token"));
        QFile f(tokenFile);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("op-secret\n");
        f.close();
        QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));

        FleetSession session;
        QSignalSpy needed(&session, &FleetSession::credentialsNeeded);
        ConnectionProfile missing = profileFor(sim.baseUrl(), QStringLiteral("no-token"));
        missing.tokenFrom = ConnectionProfile::TokenFrom::File;
        missing.tokenFile = dir.filePath(QStringLiteral("absent"));
        session.connectToProfile(missing);
        QTRY_COMPARE(needed.size(), 1);
        QCOMPARE(needed.first().at(0).value<ConnectionProfile>().name, QStringLiteral("no-token"));
        QVERIFY2(needed.first().at(1).toString().contains(QLatin1String("absent")),
            qPrintable(needed.first().at(1).toString()));
        QVERIFY(!session.hasProfile()); // nothing changed

        ConnectionProfile ops = profileFor(sim.baseUrl(), QStringLiteral("ops"));
        ops.tokenFrom = ConnectionProfile::TokenFrom::File;
        ops.tokenFile = tokenFile;
        session.connectToProfile(ops);
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive() && session.identity().has_value(), 15000);
        QCOMPARE(session.profile().name, QStringLiteral("ops"));
        QCOMPARE(session.identity()->role, Role::Operator);

        qputenv("FLEET_TOKEN", "view-secret");
        ConnectionProfile viewer = profileFor(sim.baseUrl(), QStringLiteral("viewer"));
        viewer.tokenFrom = ConnectionProfile::TokenFrom::Environment;
        session.connectToProfile(viewer);
        QTRY_VERIFY_WITH_TIMEOUT(session.identity().has_value() && session.identity()->role == Role::Viewer, 15000);
        qunsetenv("FLEET_TOKEN");
        QCOMPARE(needed.size(), 1);
    }

    void connectsAndKnowsWhoItIs()
    {
        SimHarness sim;
        FleetSession session;
        QAbstractItemModelTester tester(session.regionModel());
        QVERIFY(!session.hasProfile());
        QVERIFY(session.whyCannotAct(Role::Viewer).contains(QLatin1String("not connected")));

        QSignalSpy connections(&session, &FleetSession::connectionChanged);
        QSignalSpy first(&session, &FleetSession::firstSnapshot);
        session.connectTo(profileFor(sim.baseUrl()), QStringLiteral("view-secret"));
        QCOMPARE(connections.size(), 1);
        QVERIFY(session.connection());
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive(), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(first.size(), 1, 10000);
        QVERIFY(session.store()->isLoaded());
        QCOMPARE(int(session.store()->workers().size()), sim.sim().workerCount());
        QCOMPARE(session.regionModel()->rowCount(), sim.sim().regionCount());
        QTRY_VERIFY(session.identity().has_value());
        QCOMPARE(session.identity()->role, Role::Viewer);
        // The role hook's answer in words: a viewer may watch but not act.
        QVERIFY(session.whyCannotAct(Role::Viewer).isEmpty());
        QVERIFY2(session.whyCannotAct(Role::Operator).contains(QLatin1String("needs the operator role")),
            qPrintable(session.whyCannotAct(Role::Operator)));
    }

    // First data in 0.4 s at 50,000 workers (issue #25): the regions, a few kilobytes, are shown while the 20 MB
    // snapshot is still on the way. Here the snapshot is held for 3 s by the simulator's fault control.
    void regionsShowWhileTheSnapshotIsOnTheWay()
    {
        SimHarness sim;
        QCOMPARE(sim.admin(QStringLiteral("/v1/sim/faults"),
                        R"({"type":"stall","delay_ms":3000,"count":1,"match":"/v1/fleet/snapshot"})")
                     .status,
            201);
        FleetSession session;
        QSignalSpy preview(session.store(), &FleetStore::regionsPreviewApplied);
        session.connectTo(profileFor(sim.baseUrl()), QStringLiteral("view-secret"));
        QTRY_COMPARE_WITH_TIMEOUT(session.regionModel()->rowCount(), sim.sim().regionCount(), 2500);
        QCOMPARE(preview.size(), 1);
        QVERIFY(!session.store()->isLoaded()); // the snapshot is still held
        QVERIFY(session.store()->workers().empty());
        QVERIFY(session.store()->regions().front().capacity.maxWorkers > 0); // the server's regions, in full
        // (That the charts' history is asked for from the preview on is tst_fleetstore's
        // historyStartsWithTheRegionsPreview.)
        QTRY_VERIFY_WITH_TIMEOUT(session.store()->isLoaded(), 15000);
        QCOMPARE(int(session.store()->workers().size()), sim.sim().workerCount());
        QCOMPARE(preview.size(), 1); // never again once the snapshot is in
    }

    // A preview that does not answer never holds the snapshot up for long: it is asked for after 300 ms anyway.
    void aStalledPreviewDoesNotHoldTheSnapshot()
    {
        SimHarness sim;
        QCOMPARE(sim.admin(QStringLiteral("/v1/sim/faults"),
                        R"({"type":"stall","delay_ms":8000,"count":1,"match":"/v1/regions"})")
                     .status,
            201);
        FleetSession session;
        QSignalSpy preview(session.store(), &FleetStore::regionsPreviewApplied);
        session.connectTo(profileFor(sim.baseUrl()), QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.store()->isLoaded(), 7000); // long before the preview's 8 s
        QCOMPARE(preview.size(), 0);
        QCOMPARE(int(session.store()->workers().size()), sim.sim().workerCount());
    }

    void switchingProfilesDropsTheOldFleetAtOnce()
    {
        SimHarness a;
        SimHarness::Options calm;
        calm.scenario = QStringLiteral("calm");
        SimHarness b(calm);
        FleetSession session;
        session.connectTo(profileFor(a.baseUrl(), QStringLiteral("a")), QStringLiteral("op-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.store()->isLoaded(), 10000);
        QTRY_VERIFY(session.identity().has_value());
        QPointer<FleetConnection> old = session.connection();

        QSignalSpy identity(&session, &FleetSession::identityChanged);
        session.connectTo(profileFor(b.baseUrl(), QStringLiteral("b")), QStringLiteral("view-secret"));
        // At once, before the new fleet answers: nothing of fleet a, and nobody's identity.
        QVERIFY(!session.store()->isLoaded());
        QVERIFY(session.store()->workers().empty());
        QCOMPARE(session.regionModel()->rowCount(), 0);
        QVERIFY(!session.identity().has_value());
        QCOMPARE(session.profile().name, QStringLiteral("b"));
        QVERIFY(session.connection() != old);
        QTRY_VERIFY(old.isNull()); // the old connection is gone, not left running
        QTRY_VERIFY_WITH_TIMEOUT(session.store()->isLoaded(), 10000);
        QCOMPARE(int(session.store()->workers().size()), b.sim().workerCount());
        QTRY_VERIFY(session.identity().has_value());
        QCOMPARE(session.identity()->role, Role::Viewer);
    }

    void reconnectAndShutdown()
    {
        SimHarness sim;
        FleetSession session;
        session.connectTo(profileFor(sim.baseUrl()), QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive(), 10000);
        QPointer<FleetConnection> first = session.connection();
        const int streamsBefore = sim.server().streamCount();

        QSignalSpy connections(&session, &FleetSession::connectionChanged);
        session.reconnect();
        QCOMPARE(connections.size(), 1);
        QVERIFY(session.connection() != first);
        QTRY_VERIFY(first.isNull());
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive(), 10000);
        QTRY_COMPARE(sim.server().streamCount(), streamsBefore); // one stream, not two
        QVERIFY(session.store()->isLoaded()); // same fleet: the data stays while reconnecting

        QSignalSpy status(&session, &FleetSession::statusChanged);
        session.shutdown();
        QVERIFY(!session.connection());
        QCOMPARE(session.status().state, ConnectionState::Offline);
        QVERIFY(!status.isEmpty());
        QTRY_COMPARE(sim.server().streamCount(), 0); // the server sees the stream closed
        QVERIFY(session.store()->isLoaded()); // what was seen stays readable
    }

    void healthMonitorSignalsEachVerdictChangeOnce()
    {
        SimHarness sim; // upstream-packet-loss, clock paused: the test moves it
        FleetSession session;
        QAbstractItemModelTester tester(session.regionModel());
        HealthMonitor *monitor = session.healthMonitor();
        QSignalSpy changes(monitor, &HealthMonitor::verdictChanged);
        int evaluations = 0;
        QHash<QString, Verdict> seen; // the verdicts as polled after every evaluation
        QSet<QString> hadVerdict;
        int transitions = 0;
        connect(monitor, &HealthMonitor::evaluated, this, [&] {
            if (monitor->judgedAt() <= 0)
                return; // nothing judged yet (a region's first verdict is its starting state, not a change)
            ++evaluations;
            for (const Region &r : session.store()->regions()) {
                const Verdict v = monitor->verdict(r.id);
                const auto it = seen.constFind(r.id);
                // A region's first verdict with data (after "no data" while its history loads) is its starting
                // state as well, not a change.
                if (it != seen.cend() && *it != v && (*it != Verdict::NoData || hadVerdict.contains(r.id)))
                    ++transitions;
                if (v != Verdict::NoData)
                    hadVerdict.insert(r.id);
                seen.insert(r.id, v);
            }
        });
        session.connectTo(profileFor(sim.baseUrl()), QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive(), 10000);
        for (int minute = 0; minute < 100; ++minute) {
            QCOMPARE(sim.admin(QStringLiteral("/v1/sim/advance"), R"({"seconds":60})").status, 200);
            QTRY_COMPARE_WITH_TIMEOUT(session.store()->sequence(), sim.sim().events().lastId(), 10000);
        }
        // Packet loss in eu-central from 08:52: it became degraded (or worse), and said so once per change.
        QVERIFY2(monitor->verdict(QStringLiteral("eu-central")) != Verdict::Healthy,
            qPrintable(monitor->reason(QStringLiteral("eu-central"))));
        QVERIFY(!changes.isEmpty());
        QCOMPARE(changes.size(), transitions);
        // Only EU Central changed: no region's starting verdict ("healthy" once its history loaded) is signalled,
        // and no quiet minute's build errors turn a healthy region degraded.
        for (const QList<QVariant> &args : std::as_const(changes)) {
            const auto c = args.front().value<VerdictChange>();
            QVERIFY2(c.region == QLatin1String("eu-central") && c.from != Verdict::NoData, qPrintable(c.text()));
        }
        // 100 minutes of one-second samples in six regions, judged many times (how often depends on how the events
        // were batched into frames), changed far fewer times: a signal per region per judgement would exceed this.
        QVERIFY2(changes.size() < evaluations,
            qPrintable(QStringLiteral("%1 changes in %2 evaluations").arg(changes.size()).arg(evaluations)));
        bool euCentral = false;
        for (const QList<QVariant> &args : std::as_const(changes)) {
            const auto change = args.first().value<VerdictChange>();
            QVERIFY(change.from != change.to);
            QVERIFY(change.atSecond > 0);
            if (change.region == QLatin1String("eu-central") && change.to != Verdict::Healthy) {
                euCentral = true;
                QVERIFY2(
                    change.text().contains(QLatin1String("became")) && change.text().contains(QLatin1String(" UTC: ")),
                    qPrintable(change.text()));
                QVERIFY2(change.text().contains(QLatin1String("packet loss")), qPrintable(change.text()));
            }
        }
        QVERIFY(euCentral);
        // The region model shows the monitor's verdicts, not verdicts of its own.
        for (int row = 0; row < session.regionModel()->rowCount(); ++row) {
            const QModelIndex i = session.regionModel()->index(row, 0);
            QCOMPARE(Verdict(i.data(RegionModel::VerdictRole).toInt()),
                monitor->verdict(i.data(RegionModel::IdRole).toString()));
        }
    }

    void twoViewsNeverDisagree()
    {
        // A second region model on the same session's monitor (as a war-room view would have) shows the same
        // verdicts, even with thresholds changed through one of them.
        SimHarness sim;
        FleetSession session;
        RegionModel second(session.store(), session.healthMonitor());
        session.connectTo(profileFor(sim.baseUrl()), QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive(), 10000);
        QCOMPARE(sim.admin(QStringLiteral("/v1/sim/advance"), R"({"seconds":120})").status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(session.store()->sequence(), sim.sim().events().lastId(), 10000);
        VerdictThresholds strict;
        strict.degradedRttP95Ms = 1; // everything with any RTT is degraded
        strict.holdSeconds = 0;
        second.setThresholds(strict);
        for (int row = 0; row < second.rowCount(); ++row) {
            QCOMPARE(second.index(row, 0).data(RegionModel::VerdictRole),
                session.regionModel()->index(row, 0).data(RegionModel::VerdictRole));
            QCOMPARE(Verdict(second.index(row, 0).data(RegionModel::VerdictRole).toInt()), Verdict::Degraded);
        }
    }
};

QTEST_GUILESS_MAIN(TestFleetSession)
#include "tst_fleetsession.moc"
