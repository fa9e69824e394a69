#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QMenu;
class QTableView;

namespace fleet {

class FleetStore;
class WorkerFilterModel;
class WorkerModel;

// The worker table: filter by region, state, arch and text (id, name, build); the columns that answer "which
// builder?"; copy a worker id (Ctrl+C or the context menu). The context menu is open for actions: whoever adds
// failover actions connects to contextMenuAboutToShow and adds entries for the selected workers.
class WorkerTable : public QWidget
{
    Q_OBJECT

public:
    WorkerTable(WorkerModel *model, FleetStore *store, QWidget *parent = nullptr);

    QTableView *view() const { return m_view; }
    WorkerFilterModel *filterModel() const { return m_filter; }
    void setRegionFilter(const QString &region); // empty: all regions
    QString regionFilter() const;
    void focusSearch();
    QStringList selectedWorkerIds() const;
    void copySelectedIds();

Q_SIGNALS:
    void contextMenuAboutToShow(QMenu *menu, const QStringList &workerIds);
    void regionRequested(const QString &region); // "show this worker's region"
    void message(const QString &text);

private:
    void refillRegions();
    void updateCount();
    void showContextMenu(const QPoint &pos);

    FleetStore *m_store;
    WorkerFilterModel *m_filter;
    QTableView *m_view;
    QComboBox *m_region;
    QComboBox *m_state;
    QComboBox *m_arch;
    QLineEdit *m_text;
    QLabel *m_count;
};

} // namespace fleet
