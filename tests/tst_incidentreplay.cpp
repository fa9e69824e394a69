// Replay in the console (issue #24, item 3): the seed incident recorded by a live console (real fleet-sim, real SQLite
// record) is played back in a session of its own. At a moment of the incident the replay shows the same frame the
// live console showed then: every region's health series, its worker counts, EU Central's verdict, the timeline up
// to that moment and nothing after it. It plays at up to 60x, pauses, moves; nothing in it can act or post; it
// records nothing; a damaged bundle opened from the window is refused with its line.
// FLEET_SCREENSHOTS=DIR keeps the replay window at 1920x1080 (docs/images/replay-1920x1080.png).

#include "actionregistry.h"
#include "consolewindow.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "incidentbundle.h"
#include "incidentrecorder.h"
#include "incidentreplay.h"
#include "incidentsteps.h"
#include "incidenttimeline.h"
#include "localstore.h"
#include "replaybar.h"
#include "simharness.h"

#include "actioncontroller.h"
#include "fleetaction.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace fleet;

class TestIncidentReplay : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    bundle::Bundle m_bundle;
    // The live console's view at the moment compared: EU Central's series and every region's counts.
    qint64 m_momentSecond = 0;
    QHash<QString, std::vector<float>> m_liveLoss;
    QHash<QString, std::vector<float>> m_liveFailures;
    QHash<QString, WorkerCounts> m_liveCounts;
    Verdict m_liveVerdict = Verdict::NoData;

private Q_SLOTS:
    // A live console watches the seed incident into its record; the record is read back as a bundle.
    void initTestCase()
    {
        SimHarness sim;
        FleetSession live;
        QVERIFY(live.openLocalStore(m_dir.filePath(QStringLiteral("store.sqlite"))));
        live.connectTo(sim.profile(), QStringLiteral("op-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(live.isLive() && live.store()->isLoaded(), 15000);
        toTheIncident(sim, live);
        QVERIFY(live.actions()->perform(
                    FleetAction::drainRegion(QStringLiteral("eu-central"), QStringLiteral("upstream packet loss")))
            > 0);
        QTRY_VERIFY_WITH_TIMEOUT(!live.store()->operations().empty(), 15000);
        for (int i = 0; i < 4; ++i) {
            sim.advance(60);
            QTest::qWait(50);
        }
        QTRY_VERIFY_WITH_TIMEOUT(live.store()->fleetNowMs() >= sim.sim().now() - 1000, 20000);
        // The moment compared: now, as the live console shows it.
        m_momentSecond = live.store()->history().latestSecond() - 5;
        const HealthTimeline &h = live.store()->history();
        for (const Region &r : live.store()->regions()) {
            const int i = h.regionIndex(r.id);
            h.series(i, HealthTimeline::PacketLoss, m_momentSecond - 3599, m_momentSecond, &m_liveLoss[r.id]);
            h.series(
                i, HealthTimeline::FailuresETimedOut, m_momentSecond - 3599, m_momentSecond, &m_liveFailures[r.id]);
        }
        m_liveVerdict = live.healthMonitor()->verdict(QStringLiteral("eu-central"));
        QVERIFY(m_liveVerdict == Verdict::Degraded || m_liveVerdict == Verdict::Down);
        // Another minute, so the record goes past the moment.
        sim.advance(60);
        QTRY_VERIFY_WITH_TIMEOUT(live.store()->fleetNowMs() >= sim.sim().now() - 1000, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(live.recorder()->samplesRecorded() > 0, 10000);
        live.recorder()->flush(); // as the session does on its way out
        live.localStore()->close();
        LocalStore store;
        QVERIFY(store.open(m_dir.filePath(QStringLiteral("store.sqlite"))));
        auto read = IncidentRecorder::read(&store, QString(), 0, 0);
        QVERIFY2(read.ok(), qPrintable(read.error()));
        m_bundle = read.take();
        QVERIFY2(m_bundle.header.toMs / 1000 > m_momentSecond,
            qPrintable(QStringLiteral("record to %1, moment %2, samples %3")
                           .arg(m_bundle.header.toMs / 1000)
                           .arg(m_momentSecond)
                           .arg(m_bundle.samples.size())));
    }

    void theReplayShowsTheFrameTheLiveConsoleShowed()
    {
        FleetSession replay;
        QVERIFY(replay.startReplay(m_bundle, QStringLiteral("seed.jsonl")));
        QVERIFY(replay.isReplaying());
        QVERIFY(!replay.connection()); // nothing to reach a fleet with
        replay.replay()->seek(m_momentSecond * 1000);
        const HealthTimeline &h = replay.store()->history();
        // The health the recorder kept: from ten minutes before EU Central's verdict, identical second by second.
        const qint64 recordedFrom = replay.replay()->fromMs() / 1000;
        for (auto it = m_liveLoss.cbegin(); it != m_liveLoss.cend(); ++it) {
            std::vector<float> loss;
            std::vector<float> failures;
            h.series(h.regionIndex(it.key()), HealthTimeline::PacketLoss, m_momentSecond - 3599, m_momentSecond, &loss);
            h.series(h.regionIndex(it.key()), HealthTimeline::FailuresETimedOut, m_momentSecond - 3599, m_momentSecond,
                &failures);
            int compared = 0;
            for (std::size_t i = 0; i < loss.size(); ++i) {
                const qint64 second = m_momentSecond - 3599 + qint64(i);
                if (second < recordedFrom)
                    continue;
                QVERIFY2(loss[i] == it.value()[i] || (std::isnan(loss[i]) && std::isnan(it.value()[i])),
                    qPrintable(QStringLiteral("%1 at %2: %3 live, %4 replayed")
                                   .arg(it.key())
                                   .arg(second)
                                   .arg(it.value()[i])
                                   .arg(loss[i])));
                QVERIFY(failures[i] == m_liveFailures[it.key()][i]
                    || (std::isnan(failures[i]) && std::isnan(m_liveFailures[it.key()][i])));
                ++compared;
            }
            QVERIFY2(compared >= 600, qPrintable(QString::number(compared)));
        }
        QCOMPARE(replay.store()->fleetNowMs() / 1000, m_momentSecond);
        // The verdict the health calls for then, judged again with the bundle's thresholds.
        QTRY_COMPARE(replay.healthMonitor()->verdict(QStringLiteral("eu-central")), m_liveVerdict);
        // The timeline holds what was recorded up to that moment, nothing after.
        const auto entries = replay.timeline()->entries({});
        QVERIFY(!entries.isEmpty());
        for (const auto &e : entries)
            QVERIFY2(e.atMs <= m_momentSecond * 1000, qPrintable(e.text));
        QVERIFY(std::any_of(entries.cbegin(), entries.cend(), [](const auto &e) {
            return e.kind == IncidentTimeline::Entry::Kind::Verdict && e.regionId == QLatin1String("eu-central");
        }));
        // The drain, accepted before the moment, is in the store and drains the region's tile.
        QVERIFY(!replay.store()->operations().empty());
        const Region &eu
            = replay.store()->regions()[std::size_t(replay.store()->regionRow(QStringLiteral("eu-central")))];
        QVERIFY2(eu.dispatchState == DispatchState::Draining || eu.dispatchState == DispatchState::Drained,
            qPrintable(wireName(eu.dispatchState).toString()));
    }

    void itPlaysPausesAndMoves()
    {
        FleetSession replay;
        QVERIFY(replay.startReplay(m_bundle, QStringLiteral("seed.jsonl")));
        IncidentReplay *r = replay.replay();
        QCOMPARE(r->positionMs(), r->fromMs()); // the first frame
        r->setSpeed(60);
        r->play();
        QTest::qWait(1000);
        const qint64 played = r->positionMs() - r->fromMs();
        QVERIFY2(played >= 20000 && played <= 90000, qPrintable(QString::number(played))); // ~60 s, a busy machine
        r->pause();
        const qint64 paused = r->positionMs();
        QTest::qWait(300);
        QCOMPARE(r->positionMs(), paused);
        r->setSpeed(1000);
        QCOMPARE(r->speed(), IncidentReplay::kMaxSpeed);
        r->seek(r->toMs() + 3600 * 1000); // past the end: the end
        QVERIFY(r->isAtEnd());
        QCOMPARE(replay.store()->fleetNowMs() / 1000, r->toMs() / 1000);
        r->seek(r->fromMs() + 120000);
        QCOMPARE(r->positionMs(), r->fromMs() + 120000);
        QVERIFY(r->badgeText().startsWith(QStringLiteral("REPLAY · seed.jsonl · ")));
    }

    // Nothing in a replay can act or post, and a session that replays records nothing in its local store.
    void nothingReachesAFleetAndNothingIsRecorded()
    {
        QTemporaryDir dir;
        FleetSession replay;
        QVERIFY(replay.openLocalStore(dir.filePath(QStringLiteral("replay.sqlite"))));
        // The window first, as fleet-console --replay builds it: the profile it then sees must not bring settings.
        QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        ConsoleWindow window(&replay, &settings);
        window.setDesktopPresence(false);
        window.resize(1920, 1080);
        bundle::Bundle strict = m_bundle; // judged with the thresholds it was recorded with, whatever a window loads
        strict.header.thresholds.insert(QStringLiteral("degraded_packet_loss"), 0.02);
        strict.header.title = QStringLiteral("<img src=x> Seed <b>day</b>"); // a file's text, shown as text
        QVERIFY(replay.startReplay(strict, QStringLiteral("seed.jsonl")));
        QVERIFY(!replay.startReplay(m_bundle, QStringLiteral("again.jsonl"))); // one replay a session
        QVERIFY(replay.whyCannotAct(Role::Operator).contains(QLatin1String("replay")));
        replay.replay()->setSpeed(60);
        replay.replay()->play();
        QTest::qWait(600);
        replay.reconnect(); // a replay has no connection to make again
        QVERIFY(!replay.connection());
        window.show();
        QTRY_VERIFY(window.replayBar());
        QCOMPARE(replay.healthMonitor()->thresholds().degradedPacketLoss, 0.02);
        QVERIFY2(window.replayBar()->text().contains(QLatin1String("REPLAY")), qPrintable(window.replayBar()->text()));
        QVERIFY(window.windowTitle().startsWith(QLatin1String("[REPLAY]")));
        bool escaped = false;
        const QList<QLabel *> labels = window.replayBar()->findChildren<QLabel *>();
        for (const QLabel *label : labels) {
            QVERIFY2(!label->toolTip().contains(QLatin1String("<img")), qPrintable(label->toolTip()));
            escaped = escaped || label->toolTip().contains(QLatin1String("&lt;img src=x&gt; Seed &lt;b&gt;day"));
        }
        QVERIFY(escaped);
        for (const char *id :
            { "actions.provision", "actions.drainRegion", "actions.resumeRegion", "status.update", "file.reconnect" }) {
            QAction *a = window.actions()->action(QLatin1String(id));
            QVERIFY2(a, id);
            QVERIFY2(!a->isEnabled(), id);
            QVERIFY2(a->toolTip().contains(QLatin1String("replay")), qPrintable(a->toolTip()));
        }
        if (const QString shots = qEnvironmentVariable("FLEET_SCREENSHOTS"); !shots.isEmpty()) {
            replay.replay()->pause();
            replay.replay()->seek(m_momentSecond * 1000);
            QTest::qWait(600);
            window.grab().save(shots + QStringLiteral("/replay-1920x1080.png"));
        }
        replay.localStore()->close();
        LocalStore store;
        QVERIFY(store.open(dir.filePath(QStringLiteral("replay.sqlite"))));
        QCOMPARE(IncidentRecorder::sizeBytes(&store), 0);
    }

    // A game day (item 4): fleet-sim serves the same bundle over the Fleet API; a console connected to it and the
    // console's own replay, at the same moment, show the same frame: every region's health second by second, its
    // counts, EU Central's dispatch and verdict. Actions on the replayed fleet are refused with the reason.
    void fleetSimShowsTheSameFrame()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("seed.jsonl"));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bundle::encodeHeader(m_bundle.header) + '\n');
            for (const auto &e : std::as_const(m_bundle.events))
                f.write(bundle::encodeEvent(e) + '\n');
            for (const auto &b : std::as_const(m_bundle.samples))
                f.write(bundle::encodeSamples(b) + '\n');
        }
        SimHarness::Options o;
        o.scenario = path;
        SimHarness sim(o);
        QVERIFY(sim.sim().scenario().recording);
        const qint64 startSecond = sim.sim().now() / 1000;
        sim.advance(int(m_momentSecond - startSecond));
        QCOMPARE(sim.sim().now() / 1000, m_momentSecond);

        FleetSession game;
        game.connectTo(sim.profile(), QStringLiteral("op-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(game.isLive() && game.store()->isLoaded(), 15000);
        FleetSession replay;
        QVERIFY(replay.startReplay(m_bundle, QStringLiteral("seed.jsonl")));
        replay.replay()->seek(m_momentSecond * 1000);
        const qint64 from = replay.replay()->fromMs() / 1000;
        const HealthTimeline &g = game.store()->history();
        const HealthTimeline &r = replay.store()->history();
        // The game day's console has its history once the backfill is in (the recording's first minute).
        for (const QString &region : r.regions())
            QTRY_VERIFY_WITH_TIMEOUT(
                !std::isnan(g.value(g.regionIndex(region), HealthTimeline::PacketLoss, from + 1)), 20000);
        for (const QString &region : r.regions()) {
            for (const auto metric : { HealthTimeline::PacketLoss, HealthTimeline::FailuresETimedOut,
                     HealthTimeline::BuildsSucceeded, HealthTimeline::WorkersBusy, HealthTimeline::RttP95 }) {
                std::vector<float> fromSim;
                std::vector<float> fromReplay;
                g.series(g.regionIndex(region), metric, from + 1, m_momentSecond, &fromSim);
                r.series(r.regionIndex(region), metric, from + 1, m_momentSecond, &fromReplay);
                for (std::size_t i = 0; i < fromSim.size(); ++i) {
                    const bool same = (std::isnan(fromSim[i]) && std::isnan(fromReplay[i]))
                        || std::abs(fromSim[i] - fromReplay[i]) <= 1e-6f * std::max(1.0f, std::abs(fromReplay[i]));
                    QVERIFY2(same,
                        qPrintable(QStringLiteral("%1 metric %2 at %3: fleet-sim %4, replay %5")
                                       .arg(region)
                                       .arg(int(metric))
                                       .arg(from + 1 + qint64(i))
                                       .arg(fromSim[i])
                                       .arg(fromReplay[i])));
                }
            }
        }
        for (const Region &region : replay.store()->regions()) {
            const int row = game.store()->regionRow(region.id);
            QVERIFY2(row >= 0, qPrintable(region.id));
            const Region &served = game.store()->regions()[std::size_t(row)];
            for (const WorkerState s : { WorkerState::Idle, WorkerState::Busy, WorkerState::Offline })
                QCOMPARE(served.workersByState[int(s)], region.workersByState[int(s)]);
            QCOMPARE(served.dispatchState, region.dispatchState);
        }
        QTRY_COMPARE_WITH_TIMEOUT(game.healthMonitor()->verdict(QStringLiteral("eu-central")),
            replay.healthMonitor()->verdict(QStringLiteral("eu-central")), 10000);
        QCOMPARE(replay.healthMonitor()->verdict(QStringLiteral("eu-central")), m_liveVerdict);
        // A rehearsal cannot change the recording: an action is refused with the reason.
        const auto refused = sim.post(QStringLiteral("/v1/regions/eu-west/drain"), R"({"reason":"rehearsal"})",
            "op-secret", { { "Idempotency-Key", "k-rehearsal" } });
        QCOMPARE(refused.status, 409);
        QVERIFY2(refused.body.contains("replaying a recorded incident"), refused.body.constData());
    }

    void aDamagedBundleIsRefusedWithItsLine()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("damaged.jsonl"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bundle::encodeHeader(m_bundle.header) + '\n');
        f.write(R"({"at":"2025-11-12T09:30:00Z","kind":"verdict","region":"eu-central","to":"<img src=x>"})"
                "\n");
        f.close();
        FleetSession live;
        QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        ConsoleWindow window(&live, &settings);
        window.setDesktopPresence(false);
        bool answered = false;
        ConsoleWindow *opened = nullptr;
        QString why;
        window.openIncidentRecording(
            path,
            [&](ConsoleWindow *w, const QString &reason) {
                answered = true;
                opened = w;
                why = reason;
            },
            true);
        QTRY_VERIFY_WITH_TIMEOUT(answered, 10000);
        QVERIFY(!opened);
        QVERIFY2(why.contains(QLatin1String("damaged.jsonl: line 2: to: not a verdict")), qPrintable(why));
        QVERIFY(!live.isReplaying()); // the window's own session is untouched
    }
};

QTEST_MAIN(TestIncidentReplay)
#include "tst_incidentreplay.moc"
