// ActionRegistry: actions registered once by id, menus and the "?" overlay built from it, and enabling with a reason
// driven by the session's connection and identity (fleet-sim over loopback with a viewer and an operator token).

#include "actionregistry.h"
#include "fleetsession.h"
#include "shortcutsoverlay.h"
#include "simharness.h"

#include <QAction>
#include <QMainWindow>
#include <QMenu>
#include <QTest>

using namespace fleet;

class TestActionRegistry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void registersOnceAndBuildsMenus()
    {
        QMainWindow window;
        ActionRegistry registry(&window);
        int triggered = 0;
        QAction *a = registry.add({ QStringLiteral("test.one"), QStringLiteral("&One…"),
                                      { QKeySequence(Qt::CTRL | Qt::Key_1) }, QStringLiteral("Do one thing") },
            [&] { ++triggered; });
        QCOMPARE(a->objectName(), QStringLiteral("test.one"));
        // The same id again is the same action: stable ids, no duplicates.
        QCOMPARE(registry.add({ QStringLiteral("test.one"), QStringLiteral("Again") }, [] {}), a);
        QCOMPARE(registry.ids(), QStringList { QStringLiteral("test.one") });
        QVERIFY(window.actions().contains(a)); // its shortcut works in the window
        registry.add({ QStringLiteral("test.two"), QStringLiteral("Two") }, [] {});

        QMenu menu;
        registry.fillMenu(&menu,
            { QStringLiteral("test.one"), QStringLiteral("-"), QStringLiteral("test.two"),
                QStringLiteral("test.unknown") });
        QCOMPARE(menu.actions().size(), 3);
        QCOMPARE(menu.actions()[0], a);
        QVERIFY(menu.actions()[1]->isSeparator());
        a->trigger();
        QCOMPARE(triggered, 1);

        registry.addGesture(QStringLiteral("Drag"), QStringLiteral("Zoom"));
        const auto help = registry.helpEntries();
        QCOMPARE(help.size(), 2); // test.two has no shortcut; the gesture is listed
        QCOMPARE(help[0].id, QStringLiteral("test.one"));
        QCOMPARE(help[0].keys, QKeySequence(Qt::CTRL | Qt::Key_1).toString(QKeySequence::NativeText));
        QCOMPARE(help[0].what, QStringLiteral("Do one thing"));
        QCOMPARE(help[1].keys, QStringLiteral("Drag"));
    }

    void conditionsDisableWithAReason()
    {
        QMainWindow window;
        ActionRegistry registry(&window);
        bool paused = false;
        QAction *live = registry.add(
            { QStringLiteral("charts.live"), QStringLiteral("Back to live"), { QKeySequence(Qt::Key_End) } }, [] {});
        registry.setCondition(QStringLiteral("charts.live"),
            [&] { return paused ? QString() : QStringLiteral("the charts already follow live data"); });
        QVERIFY(!live->isEnabled());
        QVERIFY2(live->toolTip().contains(QLatin1String("already follow live")), qPrintable(live->toolTip()));
        paused = true;
        registry.refresh();
        QVERIFY(live->isEnabled());
        QVERIFY(registry.disabledReason(QStringLiteral("charts.live")).isEmpty());

        // The overlay shows a disabled action with its reason.
        paused = false;
        registry.refresh();
        ShortcutsOverlay overlay(&window);
        overlay.setRegistry(&registry);
        QCOMPARE(overlay.shortcuts().size(), 1);
        QVERIFY2(overlay.shortcuts()[0].second.contains(QLatin1String("unavailable: the charts already follow")),
            qPrintable(overlay.shortcuts()[0].second));
    }

    void roleAwareEnablingFollowsTheSession()
    {
        SimHarness sim;
        FleetSession session;
        QMainWindow window;
        ActionRegistry registry(&window);
        ActionSpec provision(QStringLiteral("fleet.provision"), QStringLiteral("Provision replacements…"),
            { QKeySequence(Qt::CTRL | Qt::Key_P) });
        provision.role = Role::Operator;
        QAction *act = registry.add(provision, [] {});
        ActionSpec watch(QStringLiteral("fleet.needsLive"), QStringLiteral("Needs a live connection"));
        watch.needsConnection = true;
        QAction *live = registry.add(watch, [] {});
        registry.bindSession(&session);

        QVERIFY(!act->isEnabled());
        QVERIFY2(registry.disabledReason(QStringLiteral("fleet.provision")).contains(QLatin1String("not connected")),
            qPrintable(registry.disabledReason(QStringLiteral("fleet.provision"))));
        QVERIFY(!live->isEnabled());

        ConnectionProfile p;
        p.name = QStringLiteral("sim");
        p.url = sim.baseUrl();
        session.connectTo(p, QStringLiteral("view-secret"));
        QTRY_VERIFY_WITH_TIMEOUT(live->isEnabled(), 10000); // live: watching actions work
        QTRY_VERIFY(session.identity().has_value());
        QVERIFY(!act->isEnabled()); // a viewer may not provision, and is told why
        QVERIFY2(act->toolTip().contains(QLatin1String("needs the operator role")), qPrintable(act->toolTip()));

        session.connectTo(p, QStringLiteral("op-secret"));
        QVERIFY(!act->isEnabled()); // identity forgotten on the new connection until the server says
        QTRY_VERIFY_WITH_TIMEOUT(act->isEnabled(), 10000);
        QVERIFY(registry.disabledReason(QStringLiteral("fleet.provision")).isEmpty());

        sim.stopServing(); // the connection drops: acting is off again, with the reason
        QTRY_VERIFY_WITH_TIMEOUT(!act->isEnabled(), 20000);
        QVERIFY2(!registry.disabledReason(QStringLiteral("fleet.provision")).isEmpty(), "a reason is given");
    }
};

QTEST_MAIN(TestActionRegistry)
#include "tst_actionregistry.moc"
