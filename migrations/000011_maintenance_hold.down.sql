DROP TABLE component_holds;
