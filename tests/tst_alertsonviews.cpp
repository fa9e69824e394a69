// Alertmanager's alerts on every view and a silence offered with a drain (issue #23), offscreen, against a real
// Alertmanager (skipped by name where Debian's prometheus-alertmanager is not installed) holding an alert posted the
// way Prometheus posts it, and fleet-sim over loopback: the region's tile, its chart header, the war-room wall and the
// incident timeline show it; the drain dialog previews the alerts a silence would match and makes it once the drain is
// accepted; the Silences tab lists it counting down; the wall then shows the alert silenced.

#include "actiondialog.h"
#include "alertwatch.h"
#include "chartpanel.h"
#include "consolewindow.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "incidenttimeline.h"
#include "mitigationsilences.h"
#include "operationsdock.h"
#include "realalertmanager.h"
#include "regionoverview.h"
#include "silencespanel.h"
#include "simharness.h"
#include "warroomview.h"

#include <QDockWidget>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace fleet;

class TestAlertsOnViews : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void alertsOnEveryViewAndASilenceWithADrain()
    {
        RealAlertmanager am;
        if (!am.installed())
            QSKIP("prometheus-alertmanager is not installed (scripts/install-deps installs Debian's)");
        QTRY_VERIFY2_WITH_TIMEOUT(am.ready(), qPrintable(am.output()), 20000);
        QVERIFY(am.fire(QJsonObject { { QStringLiteral("alertname"), QStringLiteral("FleetRegionPacketLoss") },
                            { QStringLiteral("region"), QStringLiteral("us-west") },
                            { QStringLiteral("severity"), QStringLiteral("page") } },
            QStringLiteral("7 % loss <b>upstream</b>")));

        SimHarness sim;
        sim.advance(1800); // builds running in us-west
        QTemporaryDir dir;
        QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        FleetSession session;
        QVERIFY(session.openLocalStore(dir.filePath(QStringLiteral("console.sqlite"))).ok());
        AlertmanagerConfig config;
        config.url = am.url();
        session.setAlertmanager(config, 1);
        ConsoleWindow window(&session, &settings);
        window.resize(1366, 768);
        window.show();
        session.connectTo(sim.profile(), QStringLiteral("op-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(session.isLive() && session.identity() && session.store()->isLoaded(), 15000);

        // On the region's tile, its chart header (once it is the region in focus) and the wall.
        QTRY_VERIFY2_WITH_TIMEOUT(window.regionOverview()
                                      ->tileText(QStringLiteral("us-west"))
                                      .contains(QLatin1String("1 firing: FleetRegionPacketLoss")),
            qPrintable(window.regionOverview()->tileText(QStringLiteral("us-west"))), 15000);
        window.focusRegion(QStringLiteral("us-west"));
        QTRY_VERIFY2(window.chartPanel()->alertsText().contains(QLatin1String("FleetRegionPacketLoss firing since")),
            qPrintable(window.chartPanel()->alertsText()));
        WarRoomView *wall = window.openWarRoom();
        QVERIFY(wall);
        QTRY_COMPARE(
            wall->alertsText(QStringLiteral("us-west")), QStringLiteral("Alerts: 1 firing: FleetRegionPacketLoss"));
        QVERIFY(wall->alertsText(QStringLiteral("eu-west")).isEmpty());
        QVERIFY2(wall->alertStatusText().startsWith(QStringLiteral("1 alert firing · Alertmanager polled")),
            qPrintable(wall->alertStatusText()));
        // In the incident timeline, with the alert's own words as text.
        bool inTimeline = false;
        for (const IncidentTimeline::Entry &e : session.timeline()->entries({}))
            inTimeline = inTimeline
                || (e.kind == IncidentTimeline::Entry::Kind::Alert
                    && e.text
                        == QLatin1String("Alert FleetRegionPacketLoss firing in us-west: 7 % loss <b>upstream</b>"));
        QVERIFY(inTimeline);

        // The drain dialog offers the silence, ticked, with what it would match now.
        ActionDialog *dialog = window.openRegionDialog(true, QStringLiteral("us-west"));
        QVERIFY(dialog);
        QVERIFY(dialog->silenceRequested());
        QCOMPARE(dialog->silenceRegion(), QStringLiteral("us-west"));
        QVERIFY2(dialog->silenceOfferText().contains(QLatin1String("region=\"us-west\""))
                && dialog->silenceOfferText().contains(QLatin1String("Firing now: 1 (FleetRegionPacketLoss)")),
            qPrintable(dialog->silenceOfferText()));
        dialog->findChild<QLineEdit *>(QStringLiteral("reason"))->setText(QStringLiteral("upstream loss"));
        QTRY_VERIFY_WITH_TIMEOUT(dialog->isPreviewed(), 10000);
        if (dialog->needsTypedConfirmation()) // a region-wide drain: the region's name is typed
            dialog->findChild<QLineEdit *>(QStringLiteral("typedConfirmation"))->setText(dialog->confirmationWord());
        // FLEET_SCREENSHOTS=DIR: the views as a person sees them, for docs/images.
        const QString shots = qEnvironmentVariable("FLEET_SCREENSHOTS");
        if (!shots.isEmpty())
            QVERIFY(dialog->grab().save(shots + QStringLiteral("/drain-silence-1366x768.png")));
        dialog->accept();
        QTRY_VERIFY_WITH_TIMEOUT(!window.actionDialog(), 5000); // accepted (and gone)

        // Made once the fleet accepted the drain; listed under Operations › Silences, counting down.
        MitigationSilences *silences = session.silences();
        auto silenceText = [&] {
            return silences->silences().isEmpty()
                ? QStringLiteral("(none asked for)")
                : MitigationSilences::describe(silences->silences().front(), QDateTime::currentMSecsSinceEpoch());
        };
        QTRY_VERIFY2_WITH_TIMEOUT(
            !silences->silences().isEmpty() && silences->silences().front().state == MitigationSilences::State::Active,
            qPrintable(silenceText()), 15000);
        QCOMPARE(am.silences().size(), 1);
        SilencesPanel *panel = window.operationsDock()->silencesPanel();
        panel->refresh();
        QTreeWidget *view = panel->view();
        QCOMPARE(view->topLevelItemCount(), 1);
        QCOMPARE(view->topLevelItem(0)->text(SilencesPanel::StateColumn), QStringLiteral("active"));
        QCOMPARE(view->topLevelItem(0)->text(SilencesPanel::RegionColumn), QStringLiteral("us-west"));
        QVERIFY2(view->topLevelItem(0)->text(SilencesPanel::EndsColumn).contains(QLatin1String("left")),
            qPrintable(view->topLevelItem(0)->text(SilencesPanel::EndsColumn)));
        QCOMPARE(view->topLevelItem(0)->text(SilencesPanel::IdColumn), silences->silences().front().id);

        // Alertmanager now suppresses the alert: the wall and the tile say silenced, not firing.
        QTRY_COMPARE_WITH_TIMEOUT(
            wall->alertsText(QStringLiteral("us-west")), QStringLiteral("Alerts: 1 silenced"), 15000);
        QTRY_VERIFY(window.regionOverview()->tileText(QStringLiteral("us-west")).contains(QLatin1String("1 silenced")));
        if (!shots.isEmpty()) {
            window.resize(1920, 1080);
            window.findChild<QDockWidget *>(QStringLiteral("operationsDock"))->raise();
            window.operationsDock()->showSilences();
            panel->refresh();
            QTest::qWait(300);
            QVERIFY(window.grab().save(shots + QStringLiteral("/silences-1920x1080.png")));
            sim.advance(120); // fresh health for the wall's verdicts
            QTest::qWait(1500);
            wall->resize(1920, 1080);
            wall->refreshNow();
            QTest::qWait(300);
            QVERIFY(wall->grab().save(shots + QStringLiteral("/war-room-alerts-1080.png")));
        }

        // Expire now, from the panel: ended in Alertmanager, the alert fires again on the wall.
        view->topLevelItem(0)->setSelected(true);
        panel->refresh();
        QVERIFY(panel->expireButton()->isEnabled());
        panel->expireButton()->click();
        QTRY_COMPARE_WITH_TIMEOUT(silences->silences().front().state, MitigationSilences::State::Expired, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(wall->alertsText(QStringLiteral("us-west")),
            QStringLiteral("Alerts: 1 firing: FleetRegionPacketLoss"), 15000);
        wall->close();
    }
};

QTEST_MAIN(TestAlertsOnViews)
#include "tst_alertsonviews.moc"
