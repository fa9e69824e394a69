#pragma once

#include <QHash>
#include <QPointer>
#include <QWidget>

class QListView;
class QAbstractItemModel;
class QAbstractProxyModel;

namespace fleet {

class FleetStore;
class RegionModel;
class RegionTileDelegate;
struct Theme;

// One tile per region, worst first: the verdict as colour, glyph and word; the reason in words; workers by state;
// build success rate; a 30-minute trend of failures per minute. Selecting a tile focuses that region.
class RegionOverview : public QWidget
{
    Q_OBJECT

public:
    // `ordered`: the session's RegionOrder (worst first); the overview adds the words of each tile.
    RegionOverview(QAbstractItemModel *ordered, FleetStore *store, QWidget *parent = nullptr);

    QListView *view() const { return m_view; }
    QAbstractProxyModel *sortedModel() const { return m_sorted; }
    QStringList regionOrder() const; // region ids as shown, top first
    QString currentRegion() const;
    void selectRegion(const QString &id);
    // The next steps for `region` ("Next: post Identified (Ctrl+Shift+S)"), in its tile's tooltip and the words a
    // screen reader says; empty removes them.
    void setNextSteps(const QString &region, const QString &text);
    // The alerts of each region in words (AlertWatch::summary), after the reason on its tile; a region missing from
    // `byRegion` has none.
    void setAlerts(const QHash<QString, QString> &byRegion);
    QString tileText(const QString &region) const; // what the tile says to a screen reader (and its tooltip)
    void setStale(bool stale);
    void setTheme(const Theme &theme);

protected:
    void changeEvent(QEvent *event) override; // follows Theme::apply through the application palette

Q_SIGNALS:
    void regionSelected(const QString &id, const QString &name);

private:
    QListView *m_view;
    QAbstractProxyModel *m_sorted;
    RegionTileDelegate *m_delegate;
};

} // namespace fleet
