"""The Streamlit app's page data and its launcher; ``app.py`` holds the layout only."""
