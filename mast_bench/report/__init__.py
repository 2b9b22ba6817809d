"""Reports from result records: tables (Markdown, LaTeX, CSV), uncertainty, plots, paper tables."""

from .build import ReportContext, write_all_records_report, write_report, write_study_report

__all__ = ["ReportContext", "write_all_records_report", "write_report", "write_study_report"]
