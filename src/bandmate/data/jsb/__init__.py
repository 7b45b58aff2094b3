"""The JSB Chorales in the Boulanger-Lewandowski split, as prepared for Coconet (see ABOUT.md)."""
