// The console window against a real fleet-sim on loopback (on its own thread, as in --demo), offscreen: it goes
// live and puts the degraded region first; the connect dialog explains failures; charts pause and return to live;
// stale data is marked when the simulator stops; markup from the server is shown as text; layout is restored; the
// real fleet-console binary's --screenshot renders charts.

#include "actionregistry.h"
#include "chartpanel.h"
#include "connectdialog.h"
#include "connectionindicator.h"
#include "consolewindow.h"
#include "embeddedsim.h"
#include "fleetconnection.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "profilesettings.h"
#include "regionmodel.h"
#include "regionoverview.h"
#include "shortcutsoverlay.h"
#include "workermodel.h"
#include "workertable.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDockWidget>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace fleet;
using fleet::sim::EmbeddedSim;

namespace {

ConnectionProfile profileFor(const QUrl &url)
{
    ConnectionProfile p;
    p.name = QStringLiteral("test");
    p.url = url;
    return p;
}

EmbeddedSim::Options incident(double speed = 60)
{
    EmbeddedSim::Options o;
    o.scenario = QStringLiteral("upstream-packet-loss");
    o.speed = speed;
    o.warmupSeconds = 5400; // 09:30 UTC: eu-central is losing a fifth of its packets
    o.seed = 3;
    return o;
}

// A loopback port nobody listens on (it was free a moment ago): "connection refused".
quint16 closedPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort(); // closed when `probe` goes
}

// fleet-sim on its own thread and a shown console window connected to it, as most tests start. The window is
// declared after the simulator, so it goes first.
struct LiveConsole
{
    LiveConsole(QSettings *settings, const EmbeddedSim::Options &options, const QString &token)
        : window(&session, settings)
    {
        const Status ok = sim.start(options);
        started = ok.ok();
        error = ok.error();
        window.show();
        if (started)
            window.connectTo(profileFor(sim.url()), token);
    }

    EmbeddedSim sim;
    FleetSession session;
    ConsoleWindow window;
    bool started = false;
    QString error;
};

} // namespace

class TestConsoleWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_settings = std::make_unique<QSettings>(m_dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        m_settings->clear();
    }

    void cleanup() { m_settings.reset(); }

    void demoGoesLiveWithTheDegradedRegionFirst()
    {
        EmbeddedSim sim;
        QString error;
        {
            const Status started = sim.start(incident());
            QVERIFY2(started, qPrintable(started.error()));
        }
        FleetSession session;
        ConsoleWindow w(&session, m_settings.get());
        w.setDemo(QStringLiteral("test fleet"));
        w.show();
        QSignalSpy firstData(&w, &ConsoleWindow::firstDataShown);
        w.connectTo(profileFor(sim.url()), QStringLiteral("op-secret"));
        QTRY_COMPARE_WITH_TIMEOUT(int(w.connection()->status().state), int(ConnectionState::Live), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(firstData.size(), 1, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(w.regionOverview()->regionOrder().value(0), QStringLiteral("eu-central"), 20000);
        const QModelIndex top = w.regionOverview()->sortedModel()->index(0, 0);
        QTRY_VERIFY_WITH_TIMEOUT(Verdict(top.data(RegionModel::VerdictRole).toInt()) == Verdict::Degraded
                || Verdict(top.data(RegionModel::VerdictRole).toInt()) == Verdict::Down,
            20000);
        QVERIFY2(top.data(RegionModel::VerdictReasonRole).toString().contains(QStringLiteral("packet loss")),
            qPrintable(top.data(RegionModel::VerdictReasonRole).toString()));
        // Until the user picks a region, the worst one is in focus: its charts, its workers.
        QTRY_COMPARE(w.focusedRegion(), QStringLiteral("eu-central"));
        // The worker table follows on the next turn of the event loop (ConsoleWindow::showRegion).
        QTRY_COMPARE(w.workerTable()->regionFilter(), QStringLiteral("eu-central"));
        QVERIFY(w.connectionIndicator()->text().startsWith(QStringLiteral("Live")));
        QVERIFY(w.windowTitle().contains(QStringLiteral("[DEMO]")));
        // The charts have data: ETIMEDOUT failures and packet loss from the history backfill and live samples.
        HealthChart *failures = w.chartPanel()->charts().value(0);
        HealthChart *loss = w.chartPanel()->charts().value(1);
        QTRY_VERIFY_WITH_TIMEOUT(failures->finitePointCount(0) > 10, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(loss->finitePointCount(0) > 10, 10000);
        double maxLoss = 0;
        for (const QPointF &p : loss->seriesPoints(0))
            maxLoss = std::isnan(p.y()) ? maxLoss : std::max(maxLoss, p.y());
        QVERIFY2(maxLoss > 10, qPrintable(QString::number(maxLoss))); // percent
        QVERIFY(w.connectionIndicator()->staleText().isEmpty());
        // The header names the same reason as the tile, after every evaluation (not a second later).
        int compared = 0;
        QString mismatch;
        const auto check = connect(session.healthMonitor(), &HealthMonitor::evaluated, this, [&] {
            const QString tile = top.data(RegionModel::VerdictReasonRole).toString();
            if (!w.chartPanel()->verdictText().contains(tile))
                mismatch = w.chartPanel()->verdictText() + QStringLiteral(" | tile: ") + tile;
            ++compared;
        });
        QTRY_VERIFY_WITH_TIMEOUT(compared >= 5, 10000);
        disconnect(check);
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

        // Choosing another region sticks, even though eu-central stays worst.
        w.focusRegion(QStringLiteral("us-east"));
        QCOMPARE(w.focusedRegion(), QStringLiteral("us-east"));
        QTest::qWait(1500);
        QCOMPARE(w.focusedRegion(), QStringLiteral("us-east"));
        QTest::keyClick(&w, Qt::Key_W); // back to following the worst
        QTRY_COMPARE(w.focusedRegion(), QStringLiteral("eu-central"));
    }

    void switchingFleetsShowsNothingOfThePreviousOne()
    {
        LiveConsole live(m_settings.get(), incident(30), QStringLiteral("view-secret"));
        QVERIFY2(live.started, qPrintable(live.error));
        ConsoleWindow &w = live.window;
        // The regions (and a focused one) come before the workers (the regions preview): wait for both.
        QTRY_VERIFY_WITH_TIMEOUT(!w.focusedRegion().isEmpty() && w.store()->isLoaded(), 15000);
        QVERIFY(w.store()->workers().size() > 0);
        // Now a profile whose server is not there: the old fleet's workers, regions and charts must go at once.
        const quint16 port = closedPort();
        QVERIFY(port);
        ConnectionProfile other = profileFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        other.name = QStringLiteral("staging");
        w.connectTo(other, QStringLiteral("view-secret"));
        QCOMPARE(int(w.store()->workers().size()), 0);
        QCOMPARE(int(w.store()->regions().size()), 0);
        QCOMPARE(w.regionOverview()->regionOrder().size(), 0);
        QCOMPARE(w.store()->history().latestSecond(), 0);
        QVERIFY(w.focusedRegion().isEmpty());
        QCOMPARE(w.workerTable()->view()->model()->rowCount(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(w.connectionIndicator()->text().contains(QStringLiteral("refused")), 15000);
        QVERIFY(w.windowTitle().contains(QStringLiteral("staging")));
    }

    void connectDialogExplainsAWrongToken()
    {
        EmbeddedSim sim;
        QString error;
        {
            const Status started = sim.start(incident(0));
            QVERIFY2(started, qPrintable(started.error()));
        }
        ProfileStore profiles(m_settings.get());
        ConnectDialog dialog(&profiles);
        dialog.setProfile(profileFor(sim.url()));
        dialog.setToken(QStringLiteral("not-the-token"));
        QSignalSpy tested(&dialog, &ConnectDialog::tested);
        dialog.testConnection();
        QTRY_COMPARE_WITH_TIMEOUT(tested.size(), 1, 10000);
        QCOMPARE(tested.first().at(0).toBool(), false);
        QVERIFY2(dialog.resultText().contains(QStringLiteral("did not accept the token (401)")),
            qPrintable(dialog.resultText()));
    }

    void connectDialogExplainsARefusedPort()
    {
        const quint16 port = closedPort();
        QVERIFY(port);
        ProfileStore profiles(m_settings.get());
        ConnectDialog dialog(&profiles);
        dialog.setProfile(profileFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))));
        dialog.setToken(QStringLiteral("view-secret"));
        QSignalSpy tested(&dialog, &ConnectDialog::tested);
        dialog.testConnection();
        QTRY_COMPARE_WITH_TIMEOUT(tested.size(), 1, 10000);
        QCOMPARE(tested.first().at(0).toBool(), false);
        QVERIFY2(dialog.resultText().contains(QStringLiteral("connection refused")), qPrintable(dialog.resultText()));
        QVERIFY(dialog.resultText().contains(QString::number(port)));
    }

    void connectDialogRejectsABadUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("says");
        QTest::newRow("scheme") << QStringLiteral("ftp://fleet.example.com") << QStringLiteral("http:// or https://");
        QTest::newRow("no scheme") << QStringLiteral("fleet.example.com") << QStringLiteral("http:// or https://");
        QTest::newRow("query") << QStringLiteral("https://fleet.example.com/?x=1") << QStringLiteral("without ?query");
        QTest::newRow("empty") << QString() << QStringLiteral("Enter the address");
    }

    void connectDialogRejectsABadUrl()
    {
        QFETCH(QString, url);
        QFETCH(QString, says);
        const Result<QUrl> parsed = ProfileStore::validateUrl(url);
        QVERIFY(!parsed);
        QVERIFY2(parsed.error().contains(says), qPrintable(parsed.error()));
        ProfileStore profiles(m_settings.get());
        ConnectDialog dialog(&profiles);
        ConnectionProfile p;
        p.url = QUrl(url);
        dialog.setProfile(p);
        dialog.setToken(QStringLiteral("view-secret"));
        QSignalSpy tested(&dialog, &ConnectDialog::tested);
        dialog.testConnection();
        QCOMPARE(tested.size(), 1);
        QCOMPARE(tested.first().at(0).toBool(), false);
    }

    void connectDialogConnectsAndRemembersTheProfile()
    {
        EmbeddedSim sim;
        QString error;
        {
            const Status started = sim.start(incident(0));
            QVERIFY2(started, qPrintable(started.error()));
        }
        ProfileStore profiles(m_settings.get());
        ConnectDialog dialog(&profiles);
        ConnectionProfile p = profileFor(sim.url());
        p.name = QStringLiteral("prod-eu");
        p.production = true;
        dialog.setProfile(p);
        dialog.setToken(QStringLiteral("view-secret"));
        QPushButton *connectButton = nullptr;
        for (QPushButton *b : dialog.findChildren<QPushButton *>())
            connectButton = b->text() == QStringLiteral("Connect") ? b : connectButton;
        QVERIFY(connectButton);
        QSignalSpy accepted(&dialog, &QDialog::accepted);
        connectButton->click();
        QTRY_COMPARE_WITH_TIMEOUT(accepted.size(), 1, 10000);
        QVERIFY2(dialog.resultText().contains(QStringLiteral("viewer")), qPrintable(dialog.resultText()));
        QCOMPARE(dialog.token(), QStringLiteral("view-secret"));
        const auto saved = profiles.profile(QStringLiteral("prod-eu"));
        QVERIFY(saved);
        QCOMPARE(saved->url, sim.url());
        QVERIFY(saved->production);
        QCOMPARE(profiles.lastUsed(), QStringLiteral("prod-eu"));
        // The token itself is not in the settings file.
        m_settings->sync();
        QFile ini(m_settings->fileName());
        QVERIFY(ini.open(QIODevice::ReadOnly));
        QVERIFY(!ini.readAll().contains("view-secret"));

        // A production profile is marked unmistakably in the window.
        FleetSession session;
        ConsoleWindow w(&session, m_settings.get());
        w.connectTo(*saved, QStringLiteral("view-secret"));
        QVERIFY(w.windowTitle().startsWith(QStringLiteral("[PRODUCTION]")));
        bool badge = false;
        for (QLabel *l : w.findChildren<QLabel *>())
            badge = badge || (l->isVisibleTo(&w) && l->text().startsWith(QStringLiteral("PRODUCTION")));
        QVERIFY(badge);
    }

    void pauseHoldsTheWindowAndBackToLiveReturns()
    {
        LiveConsole live(m_settings.get(), incident(60), QStringLiteral("view-secret"));
        QVERIFY2(live.started, qPrintable(live.error));
        ConsoleWindow &w = live.window;
        ChartPanel *panel = w.chartPanel();
        QTRY_VERIFY_WITH_TIMEOUT(!panel->region().isEmpty(), 15000);
        HealthChart *chart = panel->charts().value(1);
        QTRY_VERIFY_WITH_TIMEOUT(chart->finitePointCount(0) > 0, 15000);
        QVERIFY(panel->isFollowingLive());
        const qint64 before = chart->windowTo();
        QTRY_VERIFY_WITH_TIMEOUT(chart->windowTo() > before, 5000); // following: the window moves with the data

        QTest::keyClick(&w, Qt::Key_Space);
        QVERIFY(!panel->isFollowingLive());
        const qint64 from = chart->windowFrom();
        const qint64 to = chart->windowTo();
        const qint64 latest = w.store()->history().latestSecond();
        QTRY_VERIFY_WITH_TIMEOUT(w.store()->history().latestSecond() > latest + 30, 10000); // data keeps arriving
        QTest::qWait(400); // a refresh tick
        QCOMPARE(chart->windowFrom(), from);
        QCOMPARE(chart->windowTo(), to);
        for (HealthChart *c : panel->charts()) // every chart holds the same window
            QCOMPARE(c->windowTo(), to);

        // Zooming one chart moves them all.
        panel->charts().value(2)->zoomBy(0.5);
        QCOMPARE(panel->charts().value(0)->windowFrom(), panel->charts().value(2)->windowFrom());
        QCOMPARE(panel->charts().value(4)->windowTo(), panel->charts().value(2)->windowTo());

        QTest::keyClick(&w, Qt::Key_End);
        QVERIFY(panel->isFollowingLive());
        QTRY_VERIFY_WITH_TIMEOUT(chart->windowTo() > to + 30, 5000);
        QCOMPARE(chart->windowTo() - chart->windowFrom() + 1, qint64(panel->spanSeconds()));

        QTest::keyClick(&w, Qt::Key_1); // 5 minutes
        QCOMPARE(panel->spanSeconds(), 300);
        QTRY_COMPARE(chart->windowTo() - chart->windowFrom() + 1, qint64(300));
    }

    void staleDataIsMarkedWhenTheSimulatorStops()
    {
        LiveConsole live(m_settings.get(), incident(30), QStringLiteral("view-secret"));
        QVERIFY2(live.started, qPrintable(live.error));
        ConsoleWindow &w = live.window;
        EmbeddedSim &sim = live.sim;
        QString error;
        QTRY_COMPARE_WITH_TIMEOUT(int(w.connection()->status().state), int(ConnectionState::Live), 15000);
        QTRY_VERIFY_WITH_TIMEOUT(!w.focusedRegion().isEmpty(), 15000);
        QVERIFY(!w.connectionIndicator()->isStale());

        sim.stopServing();
        QTRY_VERIFY_WITH_TIMEOUT(w.connectionIndicator()->isStale(), 10000);
        const QString text = w.connectionIndicator()->text();
        QVERIFY2(text.startsWith(QStringLiteral("Reconnecting")) || text.startsWith(QStringLiteral("Connecting")),
            qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("last data")), qPrintable(text));
        for (HealthChart *c : w.chartPanel()->charts())
            QVERIFY2(c->staleText().contains(QStringLiteral("STALE · last data")), qPrintable(c->staleText()));
        QVERIFY2(w.chartPanel()->verdictText().startsWith(QStringLiteral("as of the last data")),
            qPrintable(w.chartPanel()->verdictText()));
        // The age counts up while nothing arrives: "last data 3.1 s ago" becomes older, it never freezes.
        const QString first = w.chartPanel()->charts().value(0)->staleText();
        QTRY_VERIFY_WITH_TIMEOUT(w.chartPanel()->charts().value(0)->staleText() != first, 3000);

        const Status again = sim.startAgain();
        QVERIFY2(again, qPrintable(again.error()));
        QTRY_COMPARE_WITH_TIMEOUT(int(w.connection()->status().state), int(ConnectionState::Live), 40000);
        QTRY_VERIFY_WITH_TIMEOUT(!w.connectionIndicator()->isStale(), 10000);
        for (HealthChart *c : w.chartPanel()->charts())
            QVERIFY(c->staleText().isEmpty());
    }

    void markupFromTheServerIsShownAsText()
    {
        // A scenario whose region id and name carry markup, as a hostile or broken server might send.
        QFile calm(QStringLiteral(":/scenarios/calm.json"));
        QVERIFY(calm.open(QIODevice::ReadOnly));
        QJsonObject doc = QJsonDocument::fromJson(calm.readAll()).object();
        QJsonArray regions = doc.value(QStringLiteral("regions")).toArray();
        QJsonObject r0 = regions.at(0).toObject();
        const QString hostileId = QStringLiteral("eu<i>x");
        const QString hostileName = QStringLiteral("<b>EU</b> <img src=\"x\"> <a href=\"http://evil\">click</a>")
            + QString(400, u'W'); // and very long
        r0.insert(QStringLiteral("id"), hostileId);
        r0.insert(QStringLiteral("name"), hostileName);
        r0.insert(QStringLiteral("packet_loss"), 0.4); // make it the worst, so it is focused
        regions.replace(0, r0);
        doc.insert(QStringLiteral("regions"), regions);
        const QString path = m_dir.filePath(QStringLiteral("hostile.json"));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(QJsonDocument(doc).toJson());
        out.close();

        EmbeddedSim::Options o;
        o.scenario = path;
        o.speed = 30;
        LiveConsole live(m_settings.get(), o, QStringLiteral("view-secret"));
        QVERIFY2(live.started, qPrintable(live.error));
        ConsoleWindow &w = live.window;
        w.resize(1366, 768);
        QTRY_COMPARE_WITH_TIMEOUT(w.focusedRegion(), hostileId, 30000);
        // However long the server's name, the window keeps the size it was given (a laptop's 1366 px).
        QTest::qWait(300);
        QVERIFY2(w.width() <= 1366, qPrintable(QString::number(w.width())));
        QVERIFY2(w.minimumSizeHint().width() <= 1366, qPrintable(QString::number(w.minimumSizeHint().width())));

        // Every label that shows it shows the characters, and is told to.
        bool shown = false;
        for (QLabel *l : w.findChildren<QLabel *>()) {
            if (l->text().contains(QLatin1Char('<'))) {
                QCOMPARE(l->textFormat(), Qt::PlainText);
                shown = shown || l->text().contains(hostileName);
            }
        }
        QVERIFY(shown);
        // The tile's tooltip (which Qt would render as rich text) is escaped; the screen reader text is literal.
        const QModelIndex tile = w.regionOverview()->sortedModel()->index(0, 0);
        const QString tip = tile.data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("&lt;b&gt;EU&lt;/b&gt;")) && !tip.contains(QStringLiteral("<b>")),
            qPrintable(tip));
        QVERIFY(tile.data(Qt::AccessibleTextRole).toString().contains(hostileName));
        // Worker names derived from the id are listed as they are.
        QTableView *table = w.workerTable()->view();
        QTRY_VERIFY(table->model()->rowCount() > 0);
        const QString name = table->model()->index(0, WorkerModel::NameColumn).data().toString();
        QVERIFY2(name.startsWith(hostileId), qPrintable(name));

        // Copying a worker id puts exactly the id on the clipboard.
        table->selectRow(0);
        const QString id = table->model()->index(0, WorkerModel::IdColumn).data().toString();
        QTest::keyClick(table, Qt::Key_C, Qt::ControlModifier);
        QCOMPARE(QGuiApplication::clipboard()->text(), id);
    }

    void layoutIsRestored()
    {
        {
            FleetSession session;
            ConsoleWindow w(&session, m_settings.get());
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            w.findChild<QDockWidget *>(QStringLiteral("workersDock"))->hide();
            w.chartPanel()->setSpanSeconds(6 * 3600);
            w.close(); // saves
        }
        FleetSession session;
        ConsoleWindow w(&session, m_settings.get());
        w.restoreLayout();
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.findChild<QDockWidget *>(QStringLiteral("workersDock"))->isHidden());
        QCOMPARE(w.chartPanel()->spanSeconds(), 6 * 3600);
    }

    void shortcutsOverlayListsTheShortcuts()
    {
        FleetSession session;
        ConsoleWindow w(&session, m_settings.get());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QTest::keyClick(&w, Qt::Key_Question, Qt::ShiftModifier);
        QVERIFY(w.shortcutsOverlay()->isVisible());
        QStringList keys;
        for (const auto &[k, what] : w.shortcutsOverlay()->shortcuts())
            keys << k;
        for (const QString &expected : { QStringLiteral("Space"), QStringLiteral("End"), QStringLiteral("Ctrl+F"),
                 QStringLiteral("? / F1"), QStringLiteral("1") })
            QVERIFY2(keys.contains(expected), qPrintable(keys.join(QStringLiteral(", "))));
        // Built from the registry: every registered action with a shortcut is listed, none typed by hand.
        for (const QString &id : w.actions()->ids()) {
            const QAction *a = w.actions()->action(id);
            if (!a->shortcut().isEmpty())
                QVERIFY2(keys.contains(a->shortcut().toString(QKeySequence::NativeText))
                        || std::any_of(keys.cbegin(), keys.cend(),
                            [&](const QString &k) {
                                return k.startsWith(a->shortcut().toString(QKeySequence::NativeText) + u' ');
                            }),
                    qPrintable(id));
        }
        QTest::keyClick(w.shortcutsOverlay(), Qt::Key_Escape);
        QVERIFY(!w.shortcutsOverlay()->isVisible());
    }

    void screenshotOfTheDemoShowsCharts()
    {
        const QString shot = m_dir.filePath(QStringLiteral("shot.png"));
        QProcess console;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
        console.setProcessEnvironment(env);
        console.start(QStringLiteral(FLEET_CONSOLE_BINARY),
            { QStringLiteral("--demo"), QStringLiteral("--screenshot"), shot, QStringLiteral("--after"),
                QStringLiteral("8") });
        QVERIFY(console.waitForFinished(60000));
        QVERIFY2(console.exitCode() == 0, console.readAllStandardError().constData());
        QImage image(shot);
        QCOMPARE(image.size(), QSize(1600, 1000));
        // The failures chart (top right, above its legend) must hold drawn series, not only background and grid:
        // count the pixel columns of its plot that hold a coloured pixel. Operation markers cover a few columns;
        // drawn lines (at zero too) cover most of the ~1,100.
        int hits = 0;
        for (int x = 420; x < 1560; ++x) {
            bool hit = false;
            for (int y = 80; y < 245 && !hit; ++y) {
                const QColor c = image.pixelColor(x, y);
                // Coloured, not grey: background, grid and labels are greys; every series colour is saturated.
                hit = std::max({ c.red(), c.green(), c.blue() }) - std::min({ c.red(), c.green(), c.blue() }) > 35;
            }
            hits += hit ? 1 : 0;
        }
        QVERIFY2(hits > 600, qPrintable(QString::number(hits)));
    }

    // --prometheus and --alertmanager are this run's and kept with the profile they open (issue #23); a token is
    // kept in the keychain only from the environment, never from the command line.
    void theCommandLinesMonitoringIsKeptWithTheProfile()
    {
        EmbeddedSim sim;
        QVERIFY(sim.start(incident(0)).ok());
        const QString config = m_dir.filePath(QStringLiteral("config-monitoring"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), config);
        env.insert(QStringLiteral("FLEET_CONSOLE_DATA"), m_dir.filePath(QStringLiteral("data-monitoring")));
        env.insert(QStringLiteral("FLEET_TOKEN"), QStringLiteral("view-secret"));
        env.remove(QStringLiteral("ALERTMANAGER_TOKEN"));
        QProcess console;
        console.setProcessEnvironment(env);
        console.start(QStringLiteral(FLEET_CONSOLE_BINARY),
            { QStringLiteral("--api"), sim.url().toString(), QStringLiteral("--profile"), QStringLiteral("ops"),
                QStringLiteral("--prometheus"), QStringLiteral("http://127.0.0.1:1"),
                QStringLiteral("--prometheus-scrape-interval"), QStringLiteral("30"), QStringLiteral("--alertmanager"),
                QStringLiteral("http://127.0.0.1:2"), QStringLiteral("--screenshot"),
                m_dir.filePath(QStringLiteral("monitoring.png")), QStringLiteral("--after"), QStringLiteral("1") });
        QVERIFY(console.waitForFinished(60000));
        QVERIFY2(console.exitCode() == 0, console.readAllStandardError().constData());
        QSettings saved(config + QStringLiteral("/fleet-console/fleet-console.conf"), QSettings::NativeFormat);
        const ProfileSettings kept = ProfileSettings::load(&saved, QStringLiteral("ops"));
        QCOMPARE(kept.prometheusUrl, QUrl(QStringLiteral("http://127.0.0.1:1")));
        QCOMPARE(kept.prometheusScrapeSeconds, 30);
        QCOMPARE(kept.alertmanagerUrl, QUrl(QStringLiteral("http://127.0.0.1:2")));

        console.start(QStringLiteral(FLEET_CONSOLE_BINARY),
            { QStringLiteral("--alertmanager"), QStringLiteral("http://127.0.0.1:2"),
                QStringLiteral("--save-monitoring-token"), QStringLiteral("alertmanager") });
        QVERIFY(console.waitForFinished(30000));
        QVERIFY(console.exitCode() != 0);
        QVERIFY(console.readAllStandardError().contains("set ALERTMANAGER_TOKEN to the token to keep"));
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
};

QTEST_MAIN(TestConsoleWindow)
#include "tst_consolewindow.moc"
