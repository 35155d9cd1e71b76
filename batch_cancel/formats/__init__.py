"""Every output batch-cancel writes, one module per format.

results_csv (the results CSV), summary_text (the run's stderr summary), summary_json
(--summary-json), review_text and review_json (`summarize`), needs_attention_csv
(`summarize --needs-attention`), html_report (the `report` command's page) and
history_text (`history`). Each turns data into text or a file; none decides anything.
"""
